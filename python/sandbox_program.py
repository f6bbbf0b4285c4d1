"""Turning program text into code objects, and program output into an rStar observation.

Observation rules (compatible with the official rStar python tool, see docs/sandbox.md):
- the program is stripped of surrounding whitespace and backticks and of a leading ``python`` word;
- if its last top-level statement is an expression whose value is not None, the observation is str(value),
  otherwise it is everything the program wrote to stdout;
- text that parses as a float is shortened to ``str(round(value, 4)) + "\\n"`` when that is shorter;
- text longer than ``chars`` keeps its first chars//2 and last ceil(chars/2) characters around "...";
- errors read ``ErrorType: message``;
- the observation is finally stripped of surrounding whitespace.
"""

import ast
import io
import opcode
import re

FILENAME = "<unknown>"  # what ast.parse reports in SyntaxError messages, as the official tool does

_LEADING = re.compile(r"^(?:\s|`)*(?:(?i:python)(?![A-Za-z0-9_]))?\s*")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_\s,\[\].*]*(?:[-+*/%&|^@]|//|\*\*|>>|<<)?=(?!=)")


class OutputLimitError(BaseException):
    """Raised inside the program when it writes more than the output cap; BaseException so `except Exception` cannot swallow it."""


def sanitize(code):
    code = _LEADING.sub("", code, count=1)
    end = len(code)
    while end and (code[end - 1] == "`" or code[end - 1].isspace()):
        end -= 1
    return code[:end]


def _compile(source, mode):
    return compile(source, FILENAME, mode, dont_inherit=True)


def split_program(code):
    """Returns (body, last_expression_or_None) as code objects; raises SyntaxError/ValueError for bad programs.

    Fast path: the last line that starts in column 0 begins the last top-level statement; if the text before it and
    the text from it both compile on their own, that split is the statement split (the head cannot end inside a
    bracket, string, continuation or block header, or it would not compile alone). Anything unusual (semicolons,
    multi-line strings) falls back to the ast module, which is exact but about twice as slow.
    """
    lines = code.split("\n")
    start = -1
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line and not line[0].isspace() and line[0] != "#":
            start = index
            break
    if start >= 0:
        tail = "\n".join(lines[start:])
        if ";" not in tail:
            head = "\n".join(lines[:start])
            try:
                if _ASSIGNMENT.match(tail) or tail.startswith(("def ", "class ", "for ", "while ", "if ", "with ", "try:", "import ", "from ", "async ", "@", "del ", "assert ", "raise ", "global ", "return", "pass", "break", "continue")):
                    _compile(tail, "exec")
                    return _compile(code, "exec"), None
                try:
                    last = _compile(tail, "eval")
                except SyntaxError:
                    _compile(tail, "exec")
                    return _compile(code, "exec"), None
                return _compile(head, "exec"), last
            except (SyntaxError, ValueError):
                pass
    tree = ast.parse(code, FILENAME)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return _compile(tree, "exec"), _compile(ast.Expression(last.value), "eval")
    return _compile(tree, "exec"), None


_ATTRIBUTE_WRITES = tuple(bytes([opcode.opmap[name]]) for name in ("STORE_ATTR", "DELETE_ATTR"))


def writes_attributes(code):
    """Whether the code object, or any function, class or comprehension inside it, assigns or deletes an attribute
    (`a.b = x`, `del a.b`, `for a.b in ...`, `a.b: int = x`, `a.b += 1`). Reads the bytecode: in wordcode (3.6+) every
    even byte is an opcode, so this is exact and costs microseconds."""
    opcodes = code.co_code[::2]
    if any(op in opcodes for op in _ATTRIBUTE_WRITES):
        return True
    return any(writes_attributes(const) for const in code.co_consts if hasattr(const, "co_code"))


def shared_attribute_write(code):
    """For a program whose bytecode writes attributes: a description of the first attribute assignment or deletion
    whose object may outlive the program (a module, a class or anything reached from an import, a function argument,
    a builtin), or None when every written object was created by the program itself (`obj = Point(); obj.x = 1`,
    `self.total = 0` in a method of a class the program defines, `getcontext().prec = 50` on a call result).
    Conservative: anything it cannot follow counts as shared. Costs one ast.parse, and runs only for such programs."""
    tree = ast.parse(code, FILENAME)
    bound, shared, parameters = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                shared.add((alias.asname or alias.name).partition(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            names = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
            names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
            parameters.update(names)
        elif isinstance(node, ast.ClassDef):
            bound.add(node.name)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.args.args:
                    bound.add(item.args.args[0].arg)  # self / cls of the program's own class
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
    # Names bound by assignment from something shared (an alias of a module or class) are shared too.
    assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.comprehension, ast.withitem))]
    for _ in range(3):
        for node in assignments:
            targets, value = _assignment_parts(node)
            root = _root(value)
            if root == "<call>":
                alias = False  # a call's result is taken to be a new object
            elif root == "<other>":  # a literal or expression: shared if built from something shared
                alias = any(isinstance(name, ast.Name) and name.id in shared for name in ast.walk(value))
            else:
                alias = root in shared or (root not in bound and root not in parameters)
            for target in targets:
                for name in _bound_names(target):
                    (shared if alias else bound).add(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = _root(node.value)
            if root == "<call>":
                continue
            if root == "<other>" or root in shared or root not in bound or (root in parameters and root not in bound):
                return f"assigns an attribute of {ast.unparse(node.value)!r}, which may outlive the program"
    return None


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return "<call>"
    return "<other>"


def _assignment_parts(node):
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
        return [node.target], node.value
    if isinstance(node, (ast.For, ast.comprehension)):
        return [node.target], node.iter
    return ([node.optional_vars] if node.optional_vars is not None else []), node.context_expr


def _bound_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _bound_names(element)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []


class Capture(io.TextIOBase):
    """A write-only text stream that keeps only the first `keep` and last `keep` characters it is given, and raises
    OutputLimitError once more than `limit` characters were written in total."""

    def __init__(self, keep, limit):
        super().__init__()
        self.keep = keep
        self.limit = limit
        self.total = 0
        self.head = ""
        self.tail = ""

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        size = len(text)
        self.total += size
        if self.total > self.limit:
            raise OutputLimitError(f"the program wrote more than {self.limit} characters of output")
        keep = self.keep
        if len(self.head) < keep:
            self.head += text[: keep - len(self.head)]
        tail = self.tail + text
        if len(tail) > 2 * keep:
            tail = tail[-keep:]
        self.tail = tail
        return size

    def text(self):
        """Everything written if at most `keep` characters, else head + "..." + tail as the official tool elides."""
        keep = self.keep
        if self.total <= keep:
            return self.head
        return self.head[: keep // 2] + "..." + self.tail[-((keep + 1) // 2):]


def evalf(text):
    """The official tool's float shortening: "0.3333333333333333" becomes "0.3333\\n" (the caller strips it)."""
    try:
        refined = str(round(float(text), 4)) + "\n"
    except (ValueError, TypeError, OverflowError):
        return text
    return text if len(text) < len(refined) else refined


def elide(text, chars):
    if len(text) > chars:
        return text[: chars // 2] + "..." + text[-((chars + 1) // 2):]
    return text


def value_observation(string_value, text, chars, rounding):
    """`text` is str(value); `string_value` is the value itself when it is a str (only then is it float-shortened)."""
    if rounding and string_value is not None:
        text = evalf(text)
    return elide(text, chars).strip()


def output_observation(capture, rounding):
    text = capture.text()
    if rounding and capture.total <= capture.keep:
        text = evalf(text)
    return text.strip()


def error_observation(error_type, message, chars):
    return elide(f"{error_type}: {message}", chars).strip()
