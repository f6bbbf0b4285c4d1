"""rstar-math sandbox worker: runs untrusted rStar code steps, one program at a time, in fresh globals.

Protocol (newline-delimited JSON; see src/sandbox/protocol.ts):
  fd 3 (in):  {"type": "init", ...options}   then   {"type": "run", "id", "code", "timeoutMs", "cpuMs"} ...
  fd 4 (out): {"type": "ready", "token", "isolation", ...} or {"type": "fatal", "message"}
              then one {"type": "result", "id", "token", ...} per run request.
fd 1 and 2 are not the protocol: fd 1 is /dev/null, fd 2 carries only interpreter crash reports.
The worker exits when fd 3 reaches end of file.
"""

import builtins
import decimal
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import time
import traceback

# Heavy modules are loaded once here, before any limit applies, so a step costs an exec, not an import.
import cmath  # noqa: F401
import collections  # noqa: F401
import fractions  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import statistics  # noqa: F401

import sandbox_guard
import sandbox_limits
import sandbox_prefix
import sandbox_program
import sandbox_state

try:
    import numpy
except ImportError:  # numpy is optional for the worker itself
    numpy = None

REQUEST_FD, RESPONSE_FD = 3, 4
# `global x` after `x = ...` in the prefix compiles alone but not in the whole program: such steps run in full.
_GLOBAL = re.compile(r"\bglobal\b")

WallTimeout = type("TimeoutError", (BaseException,), {})
CpuTimeout = type("TimeoutError", (BaseException,), {})
_armed = [False]


def _on_wall(signum, frame):
    if _armed[0]:
        _armed[0] = False
        raise WallTimeout()


def _on_cpu(signum, frame):
    if _armed[0]:
        _armed[0] = False
        raise CpuTimeout()


def _send(payload):
    data = (json.dumps(payload) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        written = os.write(RESPONSE_FD, view)
        view = view[written:]


def _seconds(ms):
    seconds = ms / 1000
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"


class Worker:
    def __init__(self, config):
        self.config = config
        self.token = config["token"]
        self.chars = config["observationChars"]
        self.max_output = config["maxOutputChars"]
        self.rounding = config["evalfRounding"]
        self.seed = config["seed"]
        self.memory_bytes = config["memoryBytes"]
        self.root = config["scratchRoot"]
        self.run_dir = os.path.join(self.root, "run")
        self.guard = sandbox_guard.Guard()
        self.programs = 0
        self.attribute_flag = None
        self.compiled = False
        self.plan = None
        size = config.get("prefixCache", 0)
        self.cache = sandbox_prefix.Cache(size) if isinstance(size, int) and size > 0 else None
        self.library = None

    def setup(self):
        config = self.config
        isolation = {"pid": os.getpid(), "python": sys.version.split()[0]}
        is_root = hasattr(os, "getuid") and os.getuid() == 0
        drop = is_root and config["dropPrivileges"]
        if drop:
            blocked = sandbox_limits.inaccessible_to_others(
                [p for p in sys.path if p and os.path.isabs(p) and os.path.exists(p)] + [sys.executable]
            )
            if blocked is not None:
                drop = False
                isolation["dropSkipped"] = f"{blocked} is not readable by other users, so the worker stays root"
        self.quiet = open(os.devnull, "w")  # opened before Landlock forbids writing outside the scratch root
        sandbox_limits.prepare_scratch(self.root, drop)
        os.chdir(self.root)
        for name in config["preload"]:
            __import__(name)
        if "sympy" in sys.modules:
            # Pull in sympy's lazily imported parts once, so the first program is not slower than the rest.
            sympy = sys.modules["sympy"]
            x = sympy.Symbol("x")
            sympy.solve(sympy.Eq(x**2 - 4, 0), x)
            sympy.simplify(sympy.Rational(1, 3) + x / 2)
            sympy.N(sympy.pi, 20)
        if config["landlock"]:
            isolation["landlock"] = sandbox_limits.landlock(self.root, sandbox_limits.read_roots([]))
        else:
            isolation["landlock"] = {"abi": 0, "reason": "disabled"}
        isolation["uid"] = os.getuid() if hasattr(os, "getuid") else None
        if drop:
            try:
                isolation["uid"] = sandbox_limits.drop_privileges()
            except OSError as error:
                isolation["dropError"] = str(error)
        unprivileged = os.getuid() != 0
        isolation["rlimits"] = sandbox_limits.apply_rlimits(
            self.memory_bytes, config["fileSizeBytes"], config["openFiles"], unprivileged
        )
        self.stdin = io.StringIO("")
        sys.stdin = self.stdin
        sys.stdout = self.quiet
        sys.stderr = self.quiet
        signal.signal(signal.SIGALRM, _on_wall)
        signal.signal(signal.SIGPROF, _on_cpu)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.builtins = dict(builtins.__dict__)
        if config["auditHook"]:
            self.guard.install()
            self.builtins["__import__"] = self.guard.make_import()
        isolation["auditHook"] = bool(config["auditHook"])
        self.baseline_restore_once()
        self.baseline = sandbox_state.Baseline((self.stdin, sys.__stdout__, sys.__stderr__))
        if self.cache is not None:
            self.library = sandbox_prefix.Library()
            random.seed(self.seed)
            self.seeded_random = random.getstate()
        return isolation

    def baseline_restore_once(self):
        # Seeding touches lazily created attributes (numpy.random); do it once before the baseline is taken.
        import random

        random.seed(self.seed)
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed(self.seed)

    def run(self, request):
        started = time.perf_counter()
        cpu_started = time.process_time()
        code = sandbox_program.sanitize(request["code"])
        recycle = []
        flag = sandbox_guard.static_flags(code)
        if flag:
            recycle.append(flag)
        reuse = None
        if self.cache is not None and not flag and type(request.get("prefix")) is int:
            reuse = self._reusable(request, code)
        self.baseline.restore(self.seed)
        if not os.path.isdir(self.run_dir):
            os.mkdir(self.run_dir, 0o700)
        os.chdir(self.run_dir)
        capture = sandbox_program.Capture(self.chars, self.max_output)
        errors = sandbox_program.Capture(0, self.max_output)
        timeout_ms = request["timeoutMs"]
        wall_left, cpu_left = timeout_ms, request["cpuMs"]
        if reuse is not None:
            state, parts, namespace = reuse
            capture.total, capture.head, capture.tail = state.stdout
            errors.total, errors.head, errors.tail = state.stderr
            if state.random is not None:
                random.setstate(state.random)
            if state.numpy_random is not None:
                numpy.random.set_state(state.numpy_random)
            decimal.setcontext(state.decimal.copy())
            wall_left -= state.wall_ms
            cpu_left -= state.cpu_ms
        else:
            state, parts = None, None
            namespace = {"__name__": "__main__", "__builtins__": self.builtins.copy()}
        outcome = None
        keep = False
        self.attribute_flag = None
        self.compiled = False
        sys.stdout, sys.stderr = capture, errors
        self.guard.begin(self.run_dir)
        exec_started = time.perf_counter()
        exec_cpu = time.process_time()
        _armed[0] = True
        signal.setitimer(signal.ITIMER_REAL, wall_left / 1000)
        signal.setitimer(signal.ITIMER_PROF, cpu_left / 1000)
        try:
            try:
                if state is not None and state.error is not None:
                    self.compiled = True
                    outcome = state.error
                elif parts is not None:
                    self.compiled = True
                    outcome = self._run_parts(parts[0], parts[1], namespace)
                else:
                    outcome = self._execute(code, namespace)
            except BaseException as error:  # noqa: B902 - a program may raise anything, SystemExit included
                outcome = ("error", error, type(error).__name__, self._message(error))
            keep = self._keepable(namespace, outcome, state)
            if namespace is not None and (not keep or outcome[0] == "error"):
                namespace.clear()
        except BaseException as error:  # a timeout while formatting the program's own error or value
            outcome = ("error", error, type(error).__name__, "")
            keep = False
        finally:
            _armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.setitimer(signal.ITIMER_PROF, 0)
            exec_wall = (time.perf_counter() - exec_started) * 1000
            exec_cpu = (time.process_time() - exec_cpu) * 1000
            recycle.extend(self.guard.end())
            if self.attribute_flag is not None:
                recycle.append(self.attribute_flag)
            replaced = sys.stdout is not capture or sys.stderr is not errors
            sys.stdout, sys.stderr = self.quiet, self.quiet
        exec_ms = (time.perf_counter() - started) * 1000
        if replaced:
            recycle.append("sys.stdout or sys.stderr replaced")
        result = {"type": "result", "id": request["id"], "token": self.token, "timedOut": False}
        if outcome[0] == "error":
            error, name, message = outcome[1], outcome[2], outcome[3]
            if isinstance(error, WallTimeout):
                message = f"Execution of the code snippet has timed out for exceeding {_seconds(timeout_ms)} seconds."
                result["timedOut"] = True
            elif isinstance(error, CpuTimeout):
                message = f"Execution of the code snippet has exceeded its CPU time limit of {_seconds(request['cpuMs'])} seconds."
                result["timedOut"] = True
            elif isinstance(error, MemoryError) and not message:
                message = f"the program exceeded its memory limit of {self.memory_bytes // (1 << 20)} MiB"
            if isinstance(error, (WallTimeout, CpuTimeout, MemoryError, RecursionError, KeyboardInterrupt)):
                recycle.append(f"{name} interrupted the interpreter")
            result["ok"] = False
            result["observation"] = sandbox_program.error_observation(name, message, self.chars)
            result["error"] = {"type": name, "message": message}
        else:
            if outcome[0] == "value":
                observation = sandbox_program.value_observation(outcome[1], outcome[2], self.chars, self.rounding)
            else:
                observation = sandbox_program.output_observation(capture, self.rounding)
            result["ok"] = True
            result["observation"] = observation
            result["error"] = None
        check_started = time.perf_counter()
        if self.guard.wrote or not self.config["auditHook"]:
            # Only a program that created something needs a new scratch directory (creation is audited).
            try:
                os.chdir(self.root)
                shutil.rmtree(self.run_dir)
            except OSError as error:
                recycle.append(f"scratch directory could not be cleaned: {error}")
        imported = self.guard.imported if state is None else (state.imported | self.guard.imported)
        if not recycle:
            recycle.extend(self.baseline.taint(imported, self.guard.opened))
        cached = False
        if keep and not recycle and not self.guard.wrote:
            prior_wall = state.wall_ms if state is not None else 0
            prior_cpu = state.cpu_ms if state is not None else 0
            kept_error = ("error", None, outcome[2], outcome[3]) if outcome[0] == "error" else None
            self.cache.put(
                request["code"],
                sandbox_prefix.PrefixState(
                    code,
                    namespace if kept_error is None else None,
                    self.plan if kept_error is None else None,
                    (capture.total, capture.head, capture.tail),
                    (errors.total, errors.head, errors.tail),
                    self._random_state(),
                    numpy.random.get_state() if numpy is not None and any(name.startswith(("numpy", "scipy")) for name in imported) else None,
                    decimal.getcontext().copy(),
                    prior_wall + exec_wall,
                    prior_cpu + exec_cpu,
                    frozenset(imported),
                    kept_error,
                ),
            )
            cached = True
        self.programs += 1
        result["execMs"] = exec_ms
        result["checkMs"] = (time.perf_counter() - check_started) * 1000
        result["recycle"] = recycle
        if self.cache is not None:
            result["reused"] = state is not None
            result["cached"] = cached
        return result

    def _random_state(self):
        """random's state, or None while it is still the seeded one (the reset before every program restores that)."""
        current = random.getstate()
        return None if current == self.seeded_random else current

    def _reusable(self, request, code):
        """(state, (body, last), namespace copy) when only the new code of this program needs to run, else None."""
        state = self.cache.get(request["code"][: request["prefix"]])
        if state is None:
            return None
        step = sandbox_prefix.step_of(state, code)
        if step is None or not sandbox_prefix.has_statement(step) or _GLOBAL.search(step):
            return None
        if state.wall_ms >= request["timeoutMs"] or state.cpu_ms >= request["cpuMs"]:
            return None  # a full run would be close to its limits: let it decide
        try:
            body, last = sandbox_program.split_program(state.padding + step)
        except (SyntaxError, ValueError):
            return None  # the full program does not compile: the full run reports it
        if state.error is not None:
            return state, None, None
        if sandbox_program.writes_attributes(body) or (last is not None and sandbox_program.writes_attributes(last)):
            return None
        try:
            namespace = sandbox_prefix.Copier(self.library, state.namespace).namespace(state.plan, {"__name__": "__main__", "__builtins__": self.builtins.copy()})
        except sandbox_prefix.NotCopyable:
            return None
        return state, (body, last), namespace

    def _keepable(self, namespace, outcome, state):
        """The copy plan when the program's end state can be kept for programs that extend it (runs inside the time
        limits), True for a kept error, else False."""
        self.plan = None
        if self.cache is None or self.attribute_flag is not None or not self.compiled:
            return False
        if outcome[0] == "error":
            return not isinstance(outcome[1], (WallTimeout, CpuTimeout, MemoryError, RecursionError, KeyboardInterrupt))
        try:
            self.plan = sandbox_prefix.plan(self.library, namespace, state.plan if state is not None and state.plan is not None else None)
        except sandbox_prefix.NotCopyable:
            return False
        return True

    @staticmethod
    def _message(error):
        try:
            return str(error)
        except Exception:  # noqa: BLE001 - a program's exception may have a broken __str__
            return "<exception str() failed>"

    def _execute(self, code, namespace):
        body, last = sandbox_program.split_program(code)
        self.compiled = True
        # Rebinding an attribute of a module or class needs an attribute store, which the bytecode shows (exactly,
        # for every syntax); only then is the source analysed for stores to objects the program did not create.
        if sandbox_program.writes_attributes(body) or (last is not None and sandbox_program.writes_attributes(last)):
            self.attribute_flag = sandbox_program.shared_attribute_write(code)
            # Even a harmless write (to an object the program made) changes an object a kept state would share.
            self.compiled = False
        return self._run_parts(body, last, namespace)

    @staticmethod
    def _run_parts(body, last, namespace):
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                return ("value", value if isinstance(value, str) else None, str(value))
        return ("output",)


def main():
    requests = os.fdopen(REQUEST_FD, "rb", buffering=1 << 16)
    line = requests.readline()
    if not line:
        return
    config = json.loads(line)
    worker = Worker(config)
    try:
        isolation = worker.setup()
    except BaseException as error:  # noqa: B902 - report every setup failure to the pool, then exit
        _send({"type": "fatal", "message": f"{type(error).__name__}: {error}"})
        os._exit(1)
    _send({"type": "ready", "token": worker.token, "isolation": isolation})
    try:
        while True:
            line = requests.readline()
            if not line:
                os._exit(0)
            request = json.loads(line)
            if request.get("type") == "run":
                result = worker.run(request)
                _send(result)
                if result["recycle"]:
                    # This worker is retired: it runs nothing more (programs queued behind go to another worker).
                    while os.read(REQUEST_FD, 1 << 16):
                        pass
                    os._exit(0)
    except BaseException:  # noqa: B902 - a worker bug: say why on fd 2 (the pool shows it), then die
        traceback.print_exc(file=sys.__stderr__)
        sys.__stderr__.flush()
        os._exit(70)


if __name__ == "__main__":
    main()
