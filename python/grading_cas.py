"""rstar-math answer grader: the computer-algebra side.

Reads newline-delimited JSON requests on stdin and answers each on stdout, one line per request:
  request  {"id": 7, "queries": [{"kind": "expr", "a": TREE, "b": TREE, "places": null | int}, ...]}
  response {"id": 7, "results": [{"equal": true, "method": "sympy-simplify", "reason": null}, ...]}
           {"id": 7, "error": "message"}          (a request it could not read)
On start it prints {"ready": true, "sympy": "<version>"}.

Expression trees are built node by node from an explicit table (no eval, no sympify of strings):
  num{n,d} sym{name} const{name: pi|e|i|inf} add{args} mul{args} neg{arg} div{num,den} pow{base,exp}
  root{arg,index} fn{name,args}

Query kinds:
  expr   a == b. With `places`, numeric values compare rounded to that many decimal places.
         Otherwise exact: a proof is required (structural zero, simplify, minimal polynomial, equals());
         numeric evaluation at fixed points may refute equality but never establishes it.
  eqn    a = [l1, r1], b = [l2, r2]: the same solution set, shown by (l1 - r1) / (l2 - r2) simplifying to a
         nonzero constant.
  ineq   a > 0 and b > 0 describe the same set: a / b simplifies to a positive constant.
"""

import json
import random
import sys

import sympy
from sympy import (
    Abs, Add, E, I, Integer, Mul, Pow, Rational, Symbol, binomial, ceiling, exp, factorial, floor, gcd, lcm, log,
    minimal_polynomial, nan, oo, pi, simplify, zoo, Max, Min, root,
)

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(20000)

MAX_NODES = 5000
_symbols = {}

FUNCTIONS = {
    "sin": (1, sympy.sin), "cos": (1, sympy.cos), "tan": (1, sympy.tan), "cot": (1, sympy.cot),
    "sec": (1, sympy.sec), "csc": (1, sympy.csc), "asin": (1, sympy.asin), "acos": (1, sympy.acos),
    "atan": (1, sympy.atan), "acot": (1, sympy.acot), "asec": (1, sympy.asec), "acsc": (1, sympy.acsc),
    "sinh": (1, sympy.sinh), "cosh": (1, sympy.cosh), "tanh": (1, sympy.tanh), "exp": (1, exp),
    "abs": (1, Abs), "floor": (1, floor), "ceil": (1, ceiling), "factorial": (1, factorial),
    "binom": (2, binomial), "ln": (1, log),
}
CONSTANTS = {"pi": pi, "e": E, "i": I, "inf": oo}


class BadTree(Exception):
    pass


def build(node, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise BadTree("expression too large")
    if not isinstance(node, dict):
        raise BadTree("node is not an object")
    t = node.get("t")
    if t == "num":
        return Rational(int(node["n"]), int(node["d"]))
    if t == "sym":
        name = str(node["name"])
        if name not in _symbols:
            _symbols[name] = Symbol(name)
        return _symbols[name]
    if t == "const":
        if node["name"] not in CONSTANTS:
            raise BadTree("unknown constant")
        return CONSTANTS[node["name"]]
    if t == "add":
        return Add(*[build(x, budget) for x in node["args"]])
    if t == "mul":
        return Mul(*[build(x, budget) for x in node["args"]])
    if t == "neg":
        return -build(node["arg"], budget)
    if t == "div":
        return build(node["num"], budget) / build(node["den"], budget)
    if t == "pow":
        return Pow(build(node["base"], budget), build(node["exp"], budget))
    if t == "root":
        index = build(node["index"], budget)
        arg = build(node["arg"], budget)
        if index == 2:
            return sympy.sqrt(arg)
        # Real odd roots of negative numbers, as a student means them.
        if index.is_Integer and index % 2 == 1:
            return sympy.real_root(arg, index)
        return root(arg, index)
    if t == "fn":
        name = node["name"]
        args = [build(x, budget) for x in node["args"]]
        if name == "log":
            return log(args[0]) if len(args) == 1 else log(args[0], args[1])
        if name in ("gcd", "lcm", "max", "min"):
            fn = {"gcd": gcd, "lcm": lcm, "max": Max, "min": Min}[name]
            out = args[0]
            for x in args[1:]:
                out = fn(out, x)
            return out
        if name not in FUNCTIONS:
            raise BadTree("unknown function " + str(name))
        arity, fn = FUNCTIONS[name]
        if len(args) != arity:
            raise BadTree("wrong number of arguments for " + name)
        return fn(*args)
    raise BadTree("unknown node type " + str(t))


def tree(node):
    return build(node, [MAX_NODES])


def _points(symbols, count=4):
    rng = random.Random(20240611)
    points = []
    for _ in range(count):
        points.append({s: Rational(rng.randint(35, 185), 100) + Rational(rng.randint(1, 97), 997) for s in symbols})
    return points


def _value(expr, subs, digits=40):
    v = expr.subs(subs) if subs else expr
    v = sympy.N(v, digits)
    if v.has(nan, zoo, oo, -oo) or not v.is_number:
        return None
    return v


def _refuted(d, a, b):
    """True when d = a - b is clearly nonzero at one of the fixed test points (a proof of inequality)."""
    symbols = sorted(d.free_symbols, key=str)
    for subs in (_points(symbols) if symbols else [{}]):
        v = _value(d, subs)
        if v is None:
            continue
        va = _value(a, subs)
        vb = _value(b, subs)
        scale = 1 + max(abs(va) if va is not None else 0, abs(vb) if vb is not None else 0)
        if abs(v) > sympy.Float("1e-20") * scale:
            return True
    return False


def exact_equal(a, b):
    d = a - b
    if d == 0:
        return True, "sympy-identical", None
    if d.has(nan, zoo):
        return False, "sympy", "undefined value"
    if _refuted(d, a, b):
        return False, "sympy-numeric", "values differ at a test point"
    if d.is_zero is True:
        return True, "sympy-is_zero", None
    if simplify(d) == 0:
        return True, "sympy-simplify", None
    if sympy.expand(d) == 0 or sympy.expand_complex(d) == 0:
        return True, "sympy-expand", None
    if not d.free_symbols and d.is_algebraic is not False:
        try:
            x = Symbol("_x")
            if minimal_polynomial(d, x) == x:
                return True, "sympy-minpoly", None
        except Exception:
            pass
    try:
        if d.equals(0) is True:
            return True, "sympy-equals", None
    except Exception:
        pass
    return False, "sympy", "not proven equal (numerically equal at test points)"


def _round_units(x, places):
    q = Rational(x) * Rational(10) ** places
    units = sympy.floor(abs(q) + Rational(1, 2))
    return units if q >= 0 else -units


def rounded_equal(a, b, places):
    va = sympy.N(a, 60)
    vb = sympy.N(b, 60)
    if va.has(nan, zoo, oo, -oo) or vb.has(nan, zoo, oo, -oo) or not va.is_number or not vb.is_number:
        return exact_equal(a, b)
    ra, ia = va.as_real_imag()
    rb, ib = vb.as_real_imag()
    same = _round_units(ra, places) == _round_units(rb, places) and _round_units(ia, places) == _round_units(ib, places)
    if same:
        return True, "sympy-rounded", None
    return False, "sympy-rounded", "values differ at %d decimal places" % places


def constant_ratio(da, db, positive):
    if da == 0 or db == 0:
        if da == 0 and db == 0:
            return True, "sympy-identical", None
        return False, "sympy", "one side is an identity"
    ratio = simplify(sympy.cancel(da / db))
    if ratio.free_symbols or ratio.has(nan, zoo, oo, -oo):
        return False, "sympy-ratio", "not a constant multiple"
    if positive:
        if ratio.is_positive is True:
            return True, "sympy-ratio", None
        return False, "sympy-ratio", "not a positive multiple"
    if ratio.is_zero is False:
        return True, "sympy-ratio", None
    return False, "sympy-ratio", "ratio is zero or undecided"


def answer(query):
    kind = query.get("kind")
    try:
        if kind == "expr":
            a = tree(query["a"])
            b = tree(query["b"])
            places = query.get("places")
            if places is not None and not (a.free_symbols or b.free_symbols):
                return rounded_equal(a, b, int(places))
            return exact_equal(a, b)
        if kind == "eqn":
            a0, a1 = (tree(x) for x in query["a"])
            b0, b1 = (tree(x) for x in query["b"])
            return constant_ratio(a0 - a1, b0 - b1, positive=False)
        if kind == "ineq":
            return constant_ratio(tree(query["a"]), tree(query["b"]), positive=True)
        return False, "sympy", "unknown query kind"
    except BadTree as error:
        return False, "sympy", "bad tree: %s" % error
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError, ZeroDivisionError, AttributeError) as error:
        return False, "sympy", "%s: %s" % (type(error).__name__, str(error)[:200])
    except Exception as error:  # sympy raises many kinds; a pair it cannot handle is not equal
        return False, "sympy", "%s: %s" % (type(error).__name__, str(error)[:200])


def main():
    out = sys.stdout
    out.write(json.dumps({"ready": True, "sympy": sympy.__version__}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            queries = request["queries"]
            if not isinstance(queries, list):
                raise ValueError("queries must be a list")
        except Exception as error:
            out.write(json.dumps({"id": request_id, "error": "bad request: %s" % error}) + "\n")
            out.flush()
            continue
        results = []
        for query in queries:
            equal, method, reason = answer(query)
            results.append({"equal": bool(equal), "method": method, "reason": reason})
        out.write(json.dumps({"id": request_id, "results": results}) + "\n")
        out.flush()


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()
