"""Process state a program could change: what the worker restores before every program (cheap), and what it
checks after every program (taint). A tainted worker answers the request normally and is then recycled.

Cost is measured by bench/sandbox.ts ("taint check" note) and reported in docs/sandbox.md.
"""

import decimal
import gc
import os
import random
import signal
import sys
import threading
import _signal
import _thread

try:
    import numpy
except ImportError:  # numpy is optional for the worker itself
    numpy = None
try:
    import sympy
    from sympy.core.parameters import global_parameters as _sympy_parameters
except ImportError:
    sympy = None
    _sympy_parameters = None
try:
    import mpmath
except ImportError:
    mpmath = None

# Module namespaces are compared (by identity of their values) for the modules a program imported and their parent
# packages: about 10 us for sympy's 940 names. This is the runtime backstop; the static layers come first: rebinding
# an attribute of a module or class needs an attribute store, which the worker finds in the bytecode (then
# sandbox_program.shared_attribute_write decides whether the object may outlive the program and, if so, the worker
# is recycled), or reflection (setattr, vars, __dict__, ...), after which sandbox_guard.static_flags recycles it.
_SIGNALS = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))


def _same(module, saved):
    """Whether the module's namespace still holds the very same objects, in the same order (identity, not equality:
    list comparison short-circuits on identical elements, so this never calls a program's __eq__ on a clean module)."""
    try:
        return list(module.__dict__.values()) == saved
    except Exception:  # noqa: BLE001 - a replaced value whose __eq__ fails counts as a change
        return False


def _fd_count():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def _numpy_state():
    if numpy is None:
        return None
    return (numpy.geterr(), numpy.get_printoptions(), numpy.geterrcall())


def _sympy_state():
    if _sympy_parameters is None:
        return None
    return (_sympy_parameters.evaluate, _sympy_parameters.distribute, _sympy_parameters.exp_is_pow)


class Baseline:
    """State recorded once, after the worker has finished setting up, and compared after every program."""

    def __init__(self, streams):
        self.copies = {}
        for name, module in list(sys.modules.items()):
            try:
                self.copies[name] = (module, list(module.__dict__.values()))
            except (AttributeError, TypeError):
                pass
        self.handlers = [_signal.getsignal(s) for s in _SIGNALS]
        self.sigmask = _signal.pthread_sigmask(signal.SIG_BLOCK, [])
        self.recursion = sys.getrecursionlimit()
        self.fds = _fd_count()
        self.threads = (_thread._count(), threading.active_count())
        self.path = (sys.path, tuple(sys.path))
        self.meta_path = (sys.meta_path, tuple(sys.meta_path))
        self.path_hooks = (sys.path_hooks, tuple(sys.path_hooks))
        self.hooks = (sys.displayhook, sys.excepthook, sys.unraisablehook, sys.breakpointhook)
        self.environ = dict(os.environ._data)
        self.gc = (gc.isenabled(), gc.get_threshold())
        self.numpy = _numpy_state()
        self.sympy = _sympy_state()
        self.mpmath = (mpmath.mp.prec, mpmath.mp.pretty) if mpmath is not None else None
        self.streams = streams
        self.pgrp = os.getpgrp()
        self.umask = os.umask(0o022)
        os.umask(self.umask)
        self.int_digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None

    def restore(self, seed):
        """Cheap resets done before every program, so that these need no check afterwards."""
        random.seed(seed)
        if numpy is not None:
            numpy.random.seed(seed)
        decimal.setcontext(decimal.Context())
        sys.setrecursionlimit(self.recursion)
        os.umask(self.umask)
        if self.int_digits is not None:
            sys.set_int_max_str_digits(self.int_digits)

    def taint(self, imported, opened):
        """Reasons why the process state may differ from the baseline (empty list: clean).
        `imported`: names the program imported; `opened`: whether it opened any file."""
        reasons = []
        names = set()
        for name in imported:
            parts = name.split(".")
            names.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        for name in names:
            entry = self.copies.get(name)
            if entry is None:
                continue
            if sys.modules.get(name) is not entry[0]:
                reasons.append(f"sys.modules[{name!r}] replaced")
            elif not _same(entry[0], entry[1]):
                reasons.append(f"module {name} changed")
        if [_signal.getsignal(s) for s in _SIGNALS] != self.handlers:
            reasons.append("signal handlers changed")
        if _signal.pthread_sigmask(signal.SIG_BLOCK, []) != self.sigmask:
            reasons.append("signal mask changed")
        if signal.getitimer(signal.ITIMER_VIRTUAL) != (0.0, 0.0):
            reasons.append("virtual itimer set")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            reasons.append("trace or profile hook set")
        if (sys.displayhook, sys.excepthook, sys.unraisablehook, sys.breakpointhook) != self.hooks:
            reasons.append("sys hooks changed")
        if sys.stdin is not self.streams[0] or sys.__stdout__ is not self.streams[1] or sys.__stderr__ is not self.streams[2]:
            reasons.append("standard streams replaced")
        if sys.path is not self.path[0] or tuple(sys.path) != self.path[1]:
            reasons.append("sys.path changed")
        if sys.meta_path is not self.meta_path[0] or tuple(sys.meta_path) != self.meta_path[1]:
            reasons.append("sys.meta_path changed")
        if sys.path_hooks is not self.path_hooks[0] or tuple(sys.path_hooks) != self.path_hooks[1]:
            reasons.append("sys.path_hooks changed")
        if opened and _fd_count() != self.fds:
            reasons.append("open file descriptors changed")
        if (_thread._count(), threading.active_count()) != self.threads:
            reasons.append("threads left running")
        if os.environ._data != self.environ:
            reasons.append("os.environ changed")
        if (gc.isenabled(), gc.get_threshold()) != self.gc:
            reasons.append("gc settings changed")
        if _numpy_state() != self.numpy:
            reasons.append("numpy error or print options changed")
        if _sympy_state() != self.sympy:
            reasons.append("sympy global parameters changed")
        if mpmath is not None and (mpmath.mp.prec, mpmath.mp.pretty) != self.mpmath:
            reasons.append("mpmath precision changed")
        if os.getpgrp() != self.pgrp:
            reasons.append("process group changed")
        return reasons
