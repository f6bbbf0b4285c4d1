"""Prefix reuse: keep the state a program left, so that a later program that is this program plus a newline and
new code runs only the new code, with the observation that re-running the whole program gives.

A state is kept only when it can be copied exactly: every value in the namespace is
- immutable (numbers, strings, bytes, Fraction, Decimal, numpy scalars, sympy expressions, ranges; tuples and
  frozensets of such), shared with the worker's libraries (modules, library classes and functions, any object that
  is itself a value of a loaded module's namespace: a fresh run would bind the very same object), or
- a plain container (list, dict, set, tuple, Counter, defaultdict, OrderedDict, deque), a numpy array that owns its
  data, or a mutable sympy matrix, made of such values, or
- a function the program defined at top level (no closure, no attributes): it is re-created on the copy's
  namespace, so that it reads the copy's globals.
Anything else (the program's own classes and their instances, generators, iterators, closures, files, ...) means
the state is not kept and extensions of the program run in full. Copies keep sharing: two names bound to one list
stay bound to one list.
"""

import collections
import decimal
import fractions
import sys
import types

try:
    import numpy
except ImportError:
    numpy = None
try:
    import sympy
except ImportError:
    sympy = None

_ATOMIC = {type(None), bool, int, float, complex, str, bytes, range, fractions.Fraction, decimal.Decimal, type(Ellipsis), type(NotImplemented)}
_LIMIT = 200_000  # elements (or 8-byte array words) a kept namespace may hold; larger states are not kept


class NotCopyable(Exception):
    pass


class Library:
    """Identities of objects that belong to the worker's libraries (values of loaded modules' namespaces)."""

    def __init__(self):
        # id -> the object itself: holding it keeps the id from being reused by a program's object.
        self.objects = {}
        for module in list(sys.modules.values()):
            try:
                self.objects.update((id(value), value) for value in module.__dict__.values())
            except (AttributeError, TypeError):
                pass

    def shared(self, value):
        kind = type(value)
        if kind is types.ModuleType or self.objects.get(id(value)) is value:
            return True
        if isinstance(value, type):
            return getattr(value, "__module__", "__main__") != "__main__"
        if kind is types.BuiltinFunctionType:
            owner = value.__self__
            return owner is None or type(owner) is types.ModuleType
        if numpy is not None and kind is numpy.ufunc:
            return True
        return False


def _immutable(value):
    kind = type(value)
    if kind in _ATOMIC:
        return True
    if numpy is not None and isinstance(value, numpy.generic) and kind is not numpy.void and kind is not numpy.object_:
        return True
    if sympy is not None and isinstance(value, sympy.Basic):
        return True
    return False


class Copier:
    """Copies a namespace onto a new dict (see the module docstring); raises NotCopyable."""

    def __init__(self, library, source):
        self.library = library
        self.source = source
        self.memo = {}
        self.size = 0
        self.target = None

    def namespace(self, plan, extra):
        """A copy of the source namespace: the plan's shared values as they are, the others copied."""
        base, names = plan
        target = dict(base)
        target.update(extra)
        self.target = target
        source = self.source
        for name in names:
            target[name] = self.copy(source[name])
        return target

    def _grow(self, amount):
        self.size += amount
        if self.size > _LIMIT:
            raise NotCopyable("too large")

    def copy(self, value):
        if _immutable(value):
            if type(value) in (str, bytes) and len(value) > 65536:
                self._grow(len(value) // 8)
            return value
        key = id(value)
        found = self.memo.get(key)
        if found is not None:
            return found[1]
        kind = type(value)
        if kind is types.FunctionType:
            result = self._function(value)
        elif self.library.shared(value):
            result = value
        elif kind is list:
            self._grow(len(value))
            result = []
            self.memo[key] = (value, result)
            result.extend(self.copy(item) for item in value)
            return result
        elif kind is tuple:
            self._grow(len(value))
            items = tuple(self.copy(item) for item in value)
            result = value if all(a is b for a, b in zip(items, value)) else items
        elif kind in (dict, collections.OrderedDict, collections.Counter, collections.defaultdict):
            self._grow(len(value))
            if kind is collections.defaultdict:
                factory = value.default_factory
                if factory is not None and not self.library.shared(factory):
                    raise NotCopyable("defaultdict factory")
                result = collections.defaultdict(factory)
            else:
                result = kind()
            self.memo[key] = (value, result)
            for name, item in value.items():
                if not self._hashable_plain(name):
                    raise NotCopyable("dict key")
                result[name] = self.copy(item)
            return result
        elif kind in (set, frozenset):
            self._grow(len(value))
            if not all(self._hashable_plain(item) for item in value):
                raise NotCopyable("set element")
            result = set(value) if kind is set else value
        elif kind is collections.deque:
            self._grow(len(value))
            result = collections.deque(maxlen=value.maxlen)
            self.memo[key] = (value, result)
            result.extend(self.copy(item) for item in value)
            return result
        elif numpy is not None and kind is numpy.ndarray:
            if value.base is not None or value.dtype.hasobject:
                raise NotCopyable("array view or object array")
            self._grow(value.nbytes // 8 + 1)
            result = value.copy()
            if not value.flags.writeable:
                result.flags.writeable = False
        elif sympy is not None and isinstance(value, sympy.MatrixBase) and kind is sympy.MutableDenseMatrix:
            self._grow(len(value))
            result = value.copy()
        else:
            raise NotCopyable(kind.__name__)
        self.memo[key] = (value, result)
        return result

    def _hashable_plain(self, value):
        if _immutable(value) or self.library.shared(value):
            return True
        if type(value) in (tuple, frozenset):
            return all(self._hashable_plain(item) for item in value)
        return False

    def _function(self, function):
        if function.__globals__ is not self.source:
            if function.__module__ != "__main__":
                return function  # a library function: it reads its own module's globals
            raise NotCopyable("function of another namespace")
        if function.__closure__ is not None or function.__dict__:
            raise NotCopyable("closure or function attributes")
        defaults = function.__defaults__
        result = types.FunctionType(function.__code__, self.target, function.__name__, None, None)
        self.memo[id(function)] = (function, result)
        if defaults is not None:
            result.__defaults__ = tuple(self.copy(item) for item in defaults)
        if function.__kwdefaults__ is not None:
            result.__kwdefaults__ = {name: self.copy(item) for name, item in function.__kwdefaults__.items()}
        result.__qualname__ = function.__qualname__
        result.__doc__ = function.__doc__
        result.__module__ = function.__module__
        if function.__annotations__:
            result.__annotations__ = dict(function.__annotations__)
        return result


class PrefixState:
    """What a finished program left: its namespace (never run in again, only copied), its captured output, the
    random generators' and decimal context's states, the time it used, or the error it ended with."""

    __slots__ = ("text", "padding", "namespace", "plan", "stdout", "stderr", "random", "numpy_random", "decimal", "wall_ms", "cpu_ms", "imported", "error")

    def __init__(self, text, namespace, plan, stdout, stderr, random_state, numpy_state, context, wall_ms, cpu_ms, imported, error):
        self.text = text
        self.padding = "\n" * text.count("\n")
        self.namespace = namespace
        self.plan = plan
        self.stdout = stdout
        self.stderr = stderr
        self.random = random_state
        self.numpy_random = numpy_state
        self.decimal = context
        self.wall_ms = wall_ms
        self.cpu_ms = cpu_ms
        self.imported = imported
        self.error = error


_MISSING = object()


def plan(library, namespace, parent=None):
    """How to copy the namespace: (values shared as they are, names to copy). Raises NotCopyable unless it can be
    copied exactly (the names to copy are copied once, as a dry run). `parent`: the plan of the state this program
    extended; values still bound as there need no new look."""
    base = {}
    names = []
    known = parent[0].get if parent is not None else None
    for name, value in namespace.items():
        if name == "__builtins__":
            continue
        if known is not None and known(name, _MISSING) is value:
            base[name] = value
        elif _immutable(value) or (library.shared(value) and not (type(value) is types.FunctionType and value.__globals__ is namespace)):
            base[name] = value
        else:
            names.append(name)
    result = (base, names)
    Copier(library, namespace).namespace(result, {})
    return result


def step_of(state, code):
    """The new code of `code` (sanitised) when it is the state's program plus a newline and more, else None."""
    text = state.text
    if len(code) <= len(text) or code[len(text)] != "\n" or not code.startswith(text):
        return None
    return code[len(text):]


def has_statement(text):
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return True
    return False


class Cache:
    """Least recently used PrefixStates by the program text the pool sent."""

    def __init__(self, size):
        self.size = size
        self.states = {}

    def get(self, key):
        state = self.states.pop(key, None)
        if state is not None:
            self.states[key] = state
        return state

    def put(self, key, state):
        self.states.pop(key, None)
        self.states[key] = state
        while len(self.states) > self.size:
            del self.states[next(iter(self.states))]
