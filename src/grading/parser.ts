/**
 * Recursive-descent parser from normalized LaTeX answers to the typed tree in ast.ts.
 * Bounded: at most MAX_TOKENS tokens and MAX_DEPTH nested constructs; anything it does not understand is a
 * ParseError, and the caller falls back to comparing text.
 */
import { FUNCTIONS, type FunctionName, type Node, type RelOp } from "./ast.js";
import { parseDecimal, rat, mul as rmul, powInt, type Rational } from "./rational.js";
import { ParseError, tokenize, type Token } from "./tokenizer.js";

export const MAX_DEPTH = 60;

const GREEK = new Set([
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
]);

const FN_COMMANDS: Record<string, FunctionName> = {
    sin: "sin", cos: "cos", tan: "tan", cot: "cot", sec: "sec", csc: "csc", cosec: "csc",
    arcsin: "asin", arccos: "acos", arctan: "atan", arccot: "acot", arcsec: "asec", arccsc: "acsc",
    sinh: "sinh", cosh: "cosh", tanh: "tanh", ln: "ln", log: "log", lg: "log", exp: "exp",
    gcd: "gcd", lcm: "lcm", max: "max", min: "min",
};
const INVERSE: Partial<Record<FunctionName, FunctionName>> = { sin: "asin", cos: "acos", tan: "atan", cot: "acot", sec: "asec", csc: "acsc" };
/** Function names recognised when written without a backslash (longest first). */
const PLAIN_FUNCTIONS = ["arcsin", "arccos", "arctan", "sqrt", "sinh", "cosh", "tanh", "sin", "cos", "tan", "cot", "sec", "csc", "log", "exp", "ln"];

const REL_COMMANDS: Record<string, RelOp> = {
    le: "<=", leq: "<=", leqslant: "<=", ge: ">=", geq: ">=", geqslant: ">=", lt: "<", gt: ">",
    ne: "!=", neq: "!=", approx: "approx", in: "in",
};
const REL_OPS: Record<string, RelOp> = { "=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=" };

const MATRIX_ENVS = new Set(["pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix", "array"]);

const num = (v: Rational, dec = false): Node => (dec ? { t: "num", v, dec: true } : { t: "num", v });

function isIntLiteral(node: Node): boolean {
    return node.t === "num" && node.dec !== true && node.v.d === 1n && node.v.n >= 0n;
}

class Parser {
    private pos = 0;
    private depth = 0;
    private absDepth = 0;
    constructor(private readonly toks: Token[]) {}

    private peek(offset = 0): Token {
        return this.toks[Math.min(this.pos + offset, this.toks.length - 1)] as Token;
    }
    private next(): Token {
        const t = this.peek();
        if (this.pos < this.toks.length - 1) this.pos++;
        return t;
    }
    private isOp(s: string, offset = 0): boolean {
        const t = this.peek(offset);
        return t.k === "op" && t.s === s;
    }
    private isCmd(s: string): boolean {
        const t = this.peek();
        return t.k === "cmd" && t.s === s;
    }
    private expectOp(s: string): void {
        const t = this.next();
        if (t.k !== "op" || t.s !== s) throw new ParseError(`expected "${s}"`);
    }
    private enter(): void {
        if (++this.depth > MAX_DEPTH) throw new ParseError("nested too deeply");
    }
    private leave(): void {
        this.depth--;
    }

    parseAll(): Node {
        const node = this.parseList(["end"]);
        if (this.peek().k !== "end") throw new ParseError("unexpected trailing input");
        return node;
    }

    private atStop(stops: string[]): boolean {
        const t = this.peek();
        if (t.k === "end") return true;
        return (t.k === "op" || t.k === "cmd") && stops.includes(t.s);
    }

    /** Items separated by commas or semicolons; a single item without a separator is returned as is. */
    private parseList(stops: string[]): Node {
        this.enter();
        const items: Node[] = [];
        let separated = false;
        while (!this.atStop(stops)) {
            items.push(this.parseRelation());
            if (this.isOp(",") || this.isOp(";")) {
                this.next();
                separated = true;
                continue;
            }
            break;
        }
        this.leave();
        if (!separated && items.length === 1) return items[0] as Node;
        return { t: "list", items };
    }

    private relOp(): RelOp | undefined {
        const t = this.peek();
        if (t.k === "op") return REL_OPS[t.s];
        if (t.k === "cmd") return REL_COMMANDS[t.s];
        return undefined;
    }

    private parseRelation(): Node {
        this.enter();
        const sides = [this.parseUnion()];
        const ops: RelOp[] = [];
        for (let op = this.relOp(); op !== undefined; op = this.relOp()) {
            this.next();
            ops.push(op);
            sides.push(this.parseUnion());
        }
        this.leave();
        return ops.length === 0 ? (sides[0] as Node) : { t: "rel", ops, sides };
    }

    private parseUnion(): Node {
        const parts = [this.parseSum()];
        while (this.isCmd("cup")) {
            this.next();
            parts.push(this.parseSum());
        }
        return parts.length === 1 ? (parts[0] as Node) : { t: "union", parts };
    }

    private parseSum(): Node {
        this.enter();
        let left = this.parseProduct();
        for (;;) {
            const t = this.peek();
            if (t.k === "op" && (t.s === "+" || t.s === "-")) {
                this.next();
                const right = this.parseProduct();
                left = t.s === "+" ? appendAdd(left, right) : appendAdd(left, { t: "neg", arg: right });
            } else if (t.k === "cmd" && (t.s === "pm" || t.s === "mp")) {
                this.next();
                left = { t: "pm", a: left, b: this.parseProduct(), sign: t.s === "pm" ? 1 : -1 };
            } else break;
        }
        this.leave();
        return left;
    }

    private startsAtom(): boolean {
        const t = this.peek();
        if (t.k === "num" || t.k === "id") return true;
        if (t.k === "op") return t.s === "(" || t.s === "{" || t.s === "\\{" || (t.s === "|" && this.absDepth === 0);
        if (t.k === "cmd") {
            return (
                t.s === "frac" || t.s === "sqrt" || t.s === "binom" || t.s === "pi" || t.s === "infty" || t.s === "infinity" ||
                GREEK.has(t.s) || t.s in FN_COMMANDS || t.s === "lfloor" || t.s === "lceil" || t.s === "lvert" || t.s === "vert" ||
                t.s === "begin" || t.s === "emptyset" || t.s === "varnothing" || t.s === "imath"
            );
        }
        return false;
    }

    private parseProduct(): Node {
        this.enter();
        let left = this.parseUnary();
        for (;;) {
            const t = this.peek();
            if ((t.k === "op" && t.s === "*") || (t.k === "cmd" && (t.s === "cdot" || t.s === "times" || t.s === "ast"))) {
                this.next();
                left = appendMul(left, this.parseUnary());
            } else if ((t.k === "op" && t.s === "/") || (t.k === "cmd" && t.s === "div")) {
                this.next();
                left = { t: "div", num: left, den: this.parseUnary() };
            } else if (this.startsAtom()) {
                const right = this.parsePostfix();
                // Mixed number: 2\frac{1}{3} = 7/3.
                if (isIntLiteral(left) && right.t === "div" && isIntLiteral(right.num) && isIntLiteral(right.den) && this.lastWasFrac) {
                    left = { t: "add", args: [left, right] };
                } else left = appendMul(left, right);
            } else break;
        }
        this.leave();
        return left;
    }

    private lastWasFrac = false;

    private parseUnary(): Node {
        this.enter();
        const t = this.peek();
        let node: Node;
        if (t.k === "op" && t.s === "-") {
            this.next();
            node = { t: "neg", arg: this.parseUnary() };
        } else if (t.k === "op" && t.s === "+") {
            this.next();
            node = this.parseUnary();
        } else if (t.k === "cmd" && (t.s === "pm" || t.s === "mp")) {
            this.next();
            node = { t: "pm", a: null, b: this.parseUnary(), sign: t.s === "pm" ? 1 : -1 };
        } else node = this.parsePostfix();
        this.leave();
        return node;
    }

    /** An exponent or subscript argument: a group, or a single atom (a whole number, a letter, a command, -atom). */
    private parseScript(): Node {
        if (this.isOp("{")) {
            this.next();
            const inner = this.parseList(["}"]);
            this.expectOp("}");
            return inner;
        }
        if (this.isOp("-")) {
            this.next();
            return { t: "neg", arg: this.parseScript() };
        }
        const t = this.peek();
        if (t.k === "num") {
            this.next();
            return this.numberNode(t.s);
        }
        if (t.k === "id") {
            this.next();
            return this.letter(t.s);
        }
        return this.parsePrimary();
    }

    private parsePostfix(): Node {
        this.enter();
        let node = this.parsePrimary();
        for (;;) {
            if (this.isOp("^")) {
                this.next();
                const t = this.peek();
                if ((t.k === "id" && t.s === "T") || (t.k === "cmd" && (t.s === "top" || t.s === "intercal"))) {
                    this.next();
                    node = { t: "transpose", arg: node };
                    continue;
                }
                if (this.isOp("{") && this.peek(1).k === "id" && this.peek(1).s === "T" && this.isOp("}", 2)) {
                    this.pos += 3;
                    node = { t: "transpose", arg: node };
                    continue;
                }
                node = { t: "pow", base: node, exp: this.parseScript() };
            } else if (this.isOp("!")) {
                this.next();
                node = { t: "fn", name: "factorial", args: [node] };
            } else if (this.isOp("%")) {
                this.next();
                node = { t: "pct", arg: node };
            } else if (this.isOp("_") && node.t === "sym") {
                this.next();
                node = { t: "sym", name: `${node.name}_${this.subscriptName()}` };
            } else break;
        }
        this.leave();
        return node;
    }

    /** A subscript as a name fragment: `_1`, `_{12}`, `_{n+1}` (kept as text). */
    private subscriptName(): string {
        if (this.isOp("{")) {
            this.next();
            let text = "";
            let depth = 1;
            for (;;) {
                const t = this.next();
                if (t.k === "end") throw new ParseError("unclosed subscript");
                if (t.k === "op" && t.s === "{") depth++;
                if (t.k === "op" && t.s === "}" && --depth === 0) break;
                text += t.k === "cmd" ? `\\${t.s}` : t.s;
                if (text.length > 40) throw new ParseError("subscript too long");
            }
            return text;
        }
        const t = this.next();
        if (t.k === "num" || t.k === "id") return t.s;
        if (t.k === "cmd") return `\\${t.s}`;
        throw new ParseError("bad subscript");
    }

    private numberNode(text: string): Node {
        const sci = /^([0-9.]+)[eE]([+-]?\d+)$/.exec(text);
        if (sci) {
            const mant = parseDecimal(sci[1] as string);
            const e = BigInt(sci[2] as string);
            if (mant === undefined || e > 400n || e < -400n) throw new ParseError("bad number");
            const scale = powInt(rat(10n), e);
            if (scale === undefined) throw new ParseError("bad number");
            return num(rmul(mant, scale), true);
        }
        const v = parseDecimal(text);
        if (v === undefined) throw new ParseError("bad number");
        return num(v, text.includes(".") && !text.endsWith("."));
    }

    private letter(s: string): Node {
        if (s === "e") return { t: "const", name: "e" };
        if (s === "i") return { t: "const", name: "i" };
        return { t: "sym", name: s };
    }

    /** A brace group `{…}`, or a single token (one digit of a number: `\frac12`). */
    private parseArg(): Node {
        if (this.isOp("{")) {
            this.next();
            const inner = this.parseList(["}"]);
            this.expectOp("}");
            return inner;
        }
        const t = this.peek();
        if (t.k === "num") {
            const digit = t.s[0] as string;
            if (t.s.length > 1) this.toks[this.pos] = { k: "num", s: t.s.slice(1) };
            else this.next();
            if (digit === ".") throw new ParseError("bad argument");
            return this.numberNode(digit);
        }
        if (t.k === "id") {
            this.next();
            return this.letter(t.s);
        }
        if (t.k === "cmd") return this.parsePrimary();
        throw new ParseError("missing argument");
    }

    private plainFunction(): string | undefined {
        for (const name of PLAIN_FUNCTIONS) {
            let ok = true;
            for (let j = 0; j < name.length; j++) {
                const t = this.peek(j);
                if (t.k !== "id" || t.s !== name[j]) {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                const after = this.peek(name.length);
                if (after.k === "id") continue;
                return name;
            }
        }
        return undefined;
    }

    private parsePrimary(): Node {
        this.enter();
        try {
            return this.primary();
        } finally {
            this.leave();
        }
    }

    private primary(): Node {
        this.lastWasFrac = false;
        const t = this.peek();
        if (t.k === "num") {
            this.next();
            return this.numberNode(t.s);
        }
        if (t.k === "id") {
            const plain = this.plainFunction();
            if (plain !== undefined) {
                this.pos += plain.length;
                if (plain === "sqrt") return { t: "root", arg: this.parseFunctionArg(), index: num(rat(2n)) };
                return this.functionCall(FN_COMMANDS[plain] ?? (plain as FunctionName));
            }
            if (t.s === "p" && this.peek(1).k === "id" && this.peek(1).s === "i" && this.peek(2).k !== "id") {
                this.pos += 2;
                return { t: "const", name: "pi" };
            }
            this.next();
            return this.letter(t.s);
        }
        if (t.k === "op") {
            if (t.s === "(" || t.s === "[") return this.bracketed();
            if (t.s === "{" ) {
                this.next();
                const inner = this.parseList(["}"]);
                this.expectOp("}");
                return inner.t === "list" ? { t: "set", items: inner.items } : inner;
            }
            if (t.s === "\\{") {
                this.next();
                const inner = this.parseList(["\\}"]);
                this.expectOp("\\}");
                return { t: "set", items: inner.t === "list" ? inner.items : [inner] };
            }
            if (t.s === "|") {
                this.next();
                this.absDepth++;
                const inner = this.parseSum();
                this.absDepth--;
                this.expectOp("|");
                return { t: "fn", name: "abs", args: [inner] };
            }
            throw new ParseError(`unexpected "${t.s}"`);
        }
        if (t.k === "cmd") {
            this.next();
            const c = t.s;
            if (c === "frac") {
                const n = this.parseArg();
                const d = this.parseArg();
                this.lastWasFrac = true;
                return { t: "div", num: n, den: d };
            }
            if (c === "sqrt") {
                let index: Node = num(rat(2n));
                if (this.isOp("[")) {
                    this.next();
                    index = this.parseSum();
                    this.expectOp("]");
                }
                return { t: "root", arg: this.parseArg(), index };
            }
            if (c === "binom") {
                const n = this.parseArg();
                const k = this.parseArg();
                return { t: "fn", name: "binom", args: [n, k] };
            }
            if (c === "pi") return { t: "const", name: "pi" };
            if (c === "infty" || c === "infinity") return { t: "const", name: "inf" };
            if (c === "imath") return { t: "const", name: "i" };
            if (c === "emptyset" || c === "varnothing") return { t: "set", items: [] };
            if (GREEK.has(c)) return { t: "sym", name: c };
            if (c === "lfloor" || c === "lceil") {
                const inner = this.parseSum();
                const close = this.next();
                if (close.k !== "cmd" || close.s !== (c === "lfloor" ? "rfloor" : "rceil")) throw new ParseError("unclosed floor/ceil");
                return { t: "fn", name: c === "lfloor" ? "floor" : "ceil", args: [inner] };
            }
            if (c === "lvert" || c === "vert") {
                this.absDepth++;
                const inner = this.parseSum();
                this.absDepth--;
                const close = this.next();
                if (close.k !== "cmd" || (close.s !== "rvert" && close.s !== "vert")) throw new ParseError("unclosed |");
                return { t: "fn", name: "abs", args: [inner] };
            }
            if (c === "begin") return this.environment();
            const fn = FN_COMMANDS[c];
            if (fn !== undefined) return this.functionCall(fn);
            throw new ParseError(`unsupported command \\${c}`);
        }
        throw new ParseError("unexpected end");
    }

    /** `(…)`, `[…]` and mixed brackets: a group, a tuple or an interval. */
    private bracketed(): Node {
        const open = this.next().s as "(" | "[";
        const inner = this.parseList([")", "]"]);
        const close = this.next();
        if (close.k !== "op" || (close.s !== ")" && close.s !== "]")) throw new ParseError("unclosed bracket");
        if (inner.t !== "list") {
            if (open === "(" && close.s === ")") return inner;
            if (open === "[" && close.s === "]") return inner;
            throw new ParseError("mismatched brackets");
        }
        return { t: "seq", open, close: close.s as ")" | "]", items: inner.items };
    }

    private functionCall(name: FunctionName): Node {
        let power: Node | undefined;
        let base: Node | undefined;
        let fn = name;
        for (let guard = 0; guard < 2; guard++) {
            if (this.isOp("^")) {
                this.next();
                power = this.parseScript();
            } else if (this.isOp("_") && (fn === "log")) {
                this.next();
                base = this.parseScript();
            }
        }
        if (power !== undefined && power.t === "neg" && power.arg.t === "num" && power.arg.v.n === 1n && power.arg.v.d === 1n && INVERSE[fn]) {
            fn = INVERSE[fn] as FunctionName;
            power = undefined;
        }
        let args: Node[];
        if (fn === "gcd" || fn === "lcm" || fn === "max" || fn === "min") {
            if (!this.isOp("(")) throw new ParseError(`${fn} needs parentheses`);
            const group = this.bracketed();
            args = group.t === "seq" ? group.items : [group];
        } else args = [this.parseFunctionArg()];
        if (fn === "ln") {
            fn = "log";
        } else if (fn === "log" && base !== undefined) args.push(base);
        const call: Node = { t: "fn", name: fn, args };
        return power === undefined ? call : { t: "pow", base: call, exp: power };
    }

    /** A function argument: a parenthesised group, a brace group, or a run of atoms up to the next function. */
    private parseFunctionArg(): Node {
        if (this.isOp("(") || this.isOp("{")) return this.parsePostfix();
        let node = this.parsePostfix();
        while (this.startsAtom()) {
            const t = this.peek();
            if (t.k === "cmd" && t.s in FN_COMMANDS) break;
            if (t.k === "id" && this.plainFunction() !== undefined) break;
            node = appendMul(node, this.parsePostfix());
        }
        return node;
    }

    private environment(): Node {
        this.expectOp("{");
        let env = "";
        while (!this.isOp("}")) {
            const t = this.next();
            if (t.k === "end") throw new ParseError("unclosed environment name");
            env += t.s;
        }
        this.next();
        if (env.endsWith("*")) env = env.slice(0, -1);
        if (!MATRIX_ENVS.has(env)) throw new ParseError(`unsupported environment ${env}`);
        if (env === "array" && this.isOp("{")) {
            while (!this.isOp("}")) if (this.next().k === "end") throw new ParseError("bad array spec");
            this.next();
        }
        const rows: Node[][] = [];
        let row: Node[] = [];
        for (;;) {
            if (this.isCmd("end")) {
                this.next();
                this.expectOp("{");
                while (!this.isOp("}")) if (this.next().k === "end") throw new ParseError("unclosed end");
                this.next();
                break;
            }
            if (this.peek().k === "end") throw new ParseError("unclosed matrix");
            if (this.isOp("\\\\")) {
                this.next();
                rows.push(row);
                row = [];
                continue;
            }
            if (this.isOp("&")) throw new ParseError("empty matrix entry");
            row.push(this.parseRelation());
            if (this.isOp("&")) this.next();
        }
        if (row.length > 0) rows.push(row);
        if (rows.length === 0) throw new ParseError("empty matrix");
        const width = (rows[0] as Node[]).length;
        if (width === 0 || rows.some((r) => r.length !== width)) throw new ParseError("ragged matrix");
        return { t: "mat", rows };
    }
}

function appendAdd(left: Node, right: Node): Node {
    return left.t === "add" ? { t: "add", args: [...left.args, right] } : { t: "add", args: [left, right] };
}

function appendMul(left: Node, right: Node): Node {
    return left.t === "mul" ? { t: "mul", args: [...left.args, right] } : { t: "mul", args: [left, right] };
}

/** Parses a normalized answer string; throws ParseError when it is not a well-formed answer. */
export function parseLatex(text: string): Node {
    return new Parser(tokenize(text)).parseAll();
}

export { ParseError };
