"""In-process guard: an audit hook that denies dangerous operations while a program runs, a wrapper around
__import__ that notes imports outside a safe list, and a static scan that flags reflective code.

This is the second layer. The first layer is outside Python (namespaces, uid, Landlock, rlimits: see
sandbox_limits.py and docs/sandbox.md). A program that goes out of its way to defeat this layer (frame or gc
introspection) is flagged by the static scan and its worker is recycled afterwards.
"""

import os
import re
import sys

# Events denied outright while a program runs (CPython 3.8-3.13 audit event names).
DENIED = frozenset(
    {
        # new processes
        "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "subprocess.Popen",
        "pty.spawn", "os.startfile",
        # network
        "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sendmsg", "socket.sethostname",
        "http.client.connect", "ftplib.connect", "smtplib.connect", "imaplib.open", "poplib.connect",
        "nntplib.connect", "telnetlib.Telnet.open", "urllib.Request", "webbrowser.open",
        # signals to other processes or threads
        "os.kill", "os.killpg", "signal.pthread_kill",
        # environment
        "os.putenv", "os.unsetenv",
        # process-wide hooks and limits
        "sys.addaudithook", "sys.settrace", "sys.setprofile", "resource.setrlimit", "resource.prlimit",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "builtins.breakpoint",
        "sys.remote_exec", "cpython.remote_debugger_script",
        # file locks and ioctls on inherited descriptors
        "fcntl.ioctl", "fcntl.flock", "fcntl.lockf", "fcntl.fcntl",
        "os.chroot", "os.add_dll_directory", "sqlite3.connect", "syslog.openlog", "mmap.__new__",
        "os.setxattr", "os.removexattr", "os.chflags", "os.lchflags",
    }
)

# Whole families denied: every ctypes operation (so `import ctypes` itself fails: it dlopens libpython).
DENIED_PREFIXES = ("ctypes.", "_posixsubprocess.", "winreg.", "msvcrt.")

# Events whose path arguments must lie inside the program's scratch directory: event -> indexes of path args.
PATH_WRITES = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.chmod": (0,),
    "os.chown": (0,), "os.symlink": (1,), "os.link": (0, 1), "os.truncate": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copymode": (1,), "shutil.copystat": (1,),
    "shutil.copytree": (1,), "shutil.move": (0, 1), "shutil.chown": (0,), "shutil.make_archive": (0,),
    "shutil.unpack_archive": (1,), "os.mkfifo": (0,), "os.mknod": (0,),
}

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PROC_OTHER = re.compile(r"^/proc/(?!self(?:/|$)|thread-self(?:/|$))([^/]+)")

# Top-level modules a program may import without its worker being recycled afterwards.
SAFE_IMPORTS = frozenset(
    {
        "math", "cmath", "fractions", "decimal", "numbers", "sympy", "numpy", "mpmath", "scipy", "itertools",
        "functools", "collections", "statistics", "operator", "re", "random", "string", "heapq", "bisect",
        "typing", "dataclasses", "enum", "copy", "pprint", "textwrap", "datetime", "calendar", "array",
        "json", "time", "__future__",
    }
)

# Source text that suggests reflection or process-state changes: the worker is recycled after such a program.
_FLAGGED = re.compile(
    r"\.\s*_"  # attribute access to a private or dunder name (e.__traceback__, sys._getframe, obj.__class__)
    r"|\b__(?!name__\b|main__\b|init__\b|repr__\b|str__\b)\w+__\b"  # bare dunder names (__builtins__, __import__)
    r"|\b(?:getattr|setattr|delattr|vars|globals|locals|eval|exec|compile|breakpoint)\s*\("
)
# Attribute assignment and deletion are not flagged here: the worker sees them in the bytecode and then compares
# every module's namespace (sandbox_state.Baseline.taint), recycling only if something really changed.


def static_flags(code):
    match = _FLAGGED.search(code)
    return None if match is None else f"reflective or state-changing code: {match.group(0).strip()!r}"


class Guard:
    """Holds the per-program state the audit hook consults. One instance per worker process."""

    def __init__(self):
        self.active = False
        self.scratch = ""
        self.pid = str(os.getpid())
        self.flags = []
        self.imported = set()
        self.opened = False
        self.wrote = False
        self.real_import = __import__

    def begin(self, scratch):
        self.scratch = scratch + os.sep
        self.flags = []
        self.imported = set()
        self.opened = False
        self.wrote = False
        self.active = True

    def end(self):
        self.active = False
        return self.flags

    def _inside_scratch(self, path):
        if isinstance(path, int):
            return False
        try:
            path = os.fsdecode(path)
        except TypeError:
            return False
        resolved = os.path.realpath(path)
        return (resolved + os.sep).startswith(self.scratch)

    def hook(self, event, args):
        if not self.active:
            return
        if event in DENIED or event.startswith(DENIED_PREFIXES):
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "open":
            self.opened = True
            path, mode, flags = args
            if isinstance(path, int):
                raise PermissionError("sandbox: opening a file descriptor is not allowed")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & _WRITE_FLAGS)
            if writing:
                if not self._inside_scratch(path):
                    raise PermissionError(f"sandbox: writing outside the scratch directory is not allowed: {path!r}")
                self.wrote = True
            text = os.fsdecode(path) if isinstance(path, (str, bytes)) else ""
            if text.startswith("/proc/"):
                match = _PROC_OTHER.match(os.path.normpath(text))
                if match is not None and match.group(1) != self.pid:
                    raise PermissionError(f"sandbox: reading another process's /proc entry is not allowed: {text!r}")
            return
        indexes = PATH_WRITES.get(event)
        if indexes is not None:
            for index in indexes:
                if index < len(args) and not self._inside_scratch(args[index]):
                    raise PermissionError(f"sandbox: {event} outside the scratch directory is not allowed: {args[index]!r}")
            self.wrote = True
            return
        if event == "import":
            self.note_import(args[0])
        elif event in ("object.__setattr__", "object.__delattr__") and isinstance(args[0], type):
            if getattr(args[0], "__module__", None) != "__main__":
                self.flags.append(f"{event} on {args[0].__qualname__}")

    def note_import(self, name):
        if isinstance(name, str) and name.partition(".")[0] not in SAFE_IMPORTS:
            self.flags.append(f"imported {name}")

    def make_import(self):
        real_import = self.real_import
        note = self.note_import

        def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0:
                if name.partition(".")[0] not in SAFE_IMPORTS:
                    note(name)
                self.imported.add(name)
                if fromlist:
                    self.imported.update(f"{name}.{item}" for item in fromlist if isinstance(item, str))
            return real_import(name, globals, locals, fromlist, level)

        return guarded_import

    def install(self):
        sys.addaudithook(self.hook)
