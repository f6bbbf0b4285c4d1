"""OS-level limits a worker applies to itself before it serves programs: scratch root ownership, Landlock,
dropping root, and resource limits. Each step reports what it achieved; a step the platform lacks is skipped
and reported, never fatal (the TypeScript side exposes the report as `sandbox.isolation`)."""

import os
import resource
import sys

NOBODY = 65534

# Landlock (Linux >= 5.13) constants, from include/uapi/linux/landlock.h.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same numbers on x86_64 and aarch64
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_REMOVE_DIR, _FS_REMOVE_FILE, _FS_MAKE_CHAR, _FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
_FS_MAKE_REG, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK, _FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


def prepare_scratch(root, drop):
    """Makes the worker's scratch root private to the worker (owned by nobody when root will be dropped)."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    os.chmod(root, 0o700)
    if drop:
        os.chown(root, NOBODY, NOBODY)


def _syscall():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return ctypes, libc


def landlock(scratch_root, read_roots):
    """Restricts the file system to reading under read_roots and writing under scratch_root, and where the kernel
    supports it (ABI >= 4, >= 6) forbids TCP bind/connect and signals to processes outside the sandbox.
    Returns a report dict; {"abi": 0} when Landlock is unavailable."""
    if not sys.platform.startswith("linux"):
        return {"abi": 0, "reason": "not Linux"}
    try:
        ctypes, libc = _syscall()
    except OSError as error:
        return {"abi": 0, "reason": f"no libc: {error}"}
    try:
        abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        if abi < 1:
            return {"abi": 0, "reason": os.strerror(ctypes.get_errno())}
        read = _FS_READ_FILE | _FS_READ_DIR
        write = (_FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE_DIR | _FS_MAKE_REG | _FS_MAKE_SYM
                 | _FS_MAKE_CHAR | _FS_MAKE_SOCK | _FS_MAKE_FIFO | _FS_MAKE_BLOCK)
        if abi >= 2:
            write |= _FS_REFER
        if abi >= 3:
            write |= _FS_TRUNCATE
        handled_fs = _FS_EXECUTE | read | write
        handled_net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
        scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0

        class RulesetAttr(ctypes.Structure):
            _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

        class PathBeneath(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]

        attr = RulesetAttr(handled_fs, handled_net, scoped)
        size = 8 if abi < 4 else (16 if abi < 6 else 24)
        ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if ruleset < 0:
            return {"abi": 0, "reason": f"create_ruleset: {os.strerror(ctypes.get_errno())}"}
        try:
            allowed_paths = []
            for path, access in [(p, read) for p in read_roots] + [(scratch_root, read | write)]:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    if not os.path.isdir(path):
                        access &= _FS_READ_FILE | _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
                    rule = PathBeneath(access, fd)
                    if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                        return {"abi": 0, "reason": f"add_rule {path}: {os.strerror(ctypes.get_errno())}"}
                    allowed_paths.append(path)
                finally:
                    os.close(fd)
            if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                return {"abi": 0, "reason": f"no_new_privs: {os.strerror(ctypes.get_errno())}"}
            if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
                return {"abi": 0, "reason": f"restrict_self: {os.strerror(ctypes.get_errno())}"}
        finally:
            os.close(ruleset)
        return {"abi": int(abi), "network": handled_net != 0, "signals": scoped != 0, "readRoots": allowed_paths}
    finally:
        # Programs must not find ctypes already imported: importing it afresh is denied by the audit hook.
        for name in [n for n in sys.modules if n == "ctypes" or n.startswith("ctypes.")]:
            del sys.modules[name]


def read_roots(extra):
    """Directories a program may read: the interpreter and its packages, system libraries, /dev, /proc, /etc."""
    roots = {"/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/dev", "/proc", "/opt", "/sys/devices/system/cpu"}
    roots.update({sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))})
    roots.update(p for p in sys.path if p and os.path.isabs(p))
    roots.update(extra)
    return sorted(r for r in roots if os.path.exists(r))


def inaccessible_to_others(paths):
    """The first path (or parent directory of one) that a user other than its owner cannot traverse or read, else None.
    A worker that drops to nobody must still read its interpreter, packages and own code (e.g. not under /root)."""
    import stat

    for path in paths:
        current = os.path.realpath(path)
        while True:
            try:
                mode = os.stat(current).st_mode
            except OSError:
                break
            need = stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH
            if not mode & need:
                return current
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
    return None


def drop_privileges():
    """Becomes nobody when running as root. Returns the uid now in effect, or raises OSError."""
    if os.getuid() != 0:
        return os.getuid()
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return os.getuid()


def vm_size_bytes():
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def apply_rlimits(memory_bytes, file_bytes, open_files, unprivileged):
    """Caps address space (current size + memory_bytes), file size, open files, core dumps and, once the worker is
    not root, the number of processes (0: no fork, no threads). Returns the limits applied."""
    applied = {}

    def cap(name, which, value):
        try:
            resource.setrlimit(which, (value, value))
            applied[name] = value
        except (ValueError, OSError):
            pass

    try:
        base = vm_size_bytes()
        cap("as", resource.RLIMIT_AS, base + memory_bytes)
    except OSError:
        cap("data", resource.RLIMIT_DATA, memory_bytes)
    cap("fsize", resource.RLIMIT_FSIZE, file_bytes)
    cap("core", resource.RLIMIT_CORE, 0)
    cap("nofile", resource.RLIMIT_NOFILE, open_files)
    if unprivileged and hasattr(resource, "RLIMIT_NPROC"):
        cap("nproc", resource.RLIMIT_NPROC, 0)
    return applied
