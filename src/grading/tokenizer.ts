/**
 * Tokenizer for normalized LaTeX answers. Numbers keep their literal text (exactness is decided later);
 * a comma run such as `12,345,678` is one number only when every group after the first has exactly three digits
 * and the first group has 1–3 digits not starting with 0 (and it is not the whole content of a bracket pair).
 */
export type Token =
    | { k: "num"; s: string }
    | { k: "id"; s: string }
    | { k: "cmd"; s: string }
    | { k: "op"; s: string }
    | { k: "end"; s: "" };

export class ParseError extends Error {}

const OPS2 = new Map([
    ["<=", "<="],
    [">=", ">="],
    ["!=", "!="],
    ["=<", "<="],
    ["=>", ">="],
]);

const SINGLE_OPS = new Set(["+", "-", "*", "/", "^", "_", "(", ")", "[", "]", "{", "}", ",", ";", "|", "!", "=", "<", ">", "&", "'", ":"]);

/** Maximum number of tokens in one answer. */
export const MAX_TOKENS = 2000;

export function tokenize(s: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    const n = s.length;
    while (i < n) {
        if (out.length > MAX_TOKENS) throw new ParseError("too many tokens");
        const c = s[i] as string;
        if (c === " " || c === "\t" || c === "\n" || c === "\r") {
            i++;
            continue;
        }
        if (c === "\\") {
            const rest = s.slice(i + 1, i + 40);
            const m = /^[a-zA-Z]+/.exec(rest);
            if (m) {
                out.push({ k: "cmd", s: m[0] });
                i += 1 + m[0].length;
                continue;
            }
            const next = s[i + 1];
            if (next === undefined) throw new ParseError("dangling backslash");
            if (next === "\\") out.push({ k: "op", s: "\\\\" });
            else if (next === "{" || next === "}") out.push({ k: "op", s: "\\" + next });
            else if (next === "%") out.push({ k: "op", s: "%" });
            else if (next === "|") out.push({ k: "op", s: "|" });
            else if (next === "#" || next === "&" || next === "_") out.push({ k: "id", s: next });
            else throw new ParseError(`unknown escape \\${next}`);
            i += 2;
            continue;
        }
        if (/[0-9.]/.test(c)) {
            const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]\d+|(?<=\.\d*)[eE]\d+)?/.exec(s.slice(i, i + 400));
            if (!m) throw new ParseError("stray period");
            let text = m[0];
            // Thousands separators.
            const run = /^\d+(?:,\d+)+/.exec(s.slice(i, i + 400));
            if (run && /^\d/.test(text) && !text.includes(".")) {
                const groups = run[0].split(",");
                const first = groups[0] ?? "";
                const ok = first.length >= 1 && first.length <= 3 && !first.startsWith("0") && groups.slice(1).every((g) => g.length === 3);
                const before = s.slice(0, i).trimEnd();
                const after = s.slice(i + run[0].length).trimStart();
                const wholeBracket = /(?:\(|\[|\\\{)$/.test(before) && /^(?:\)|\]|\\\})/.test(after);
                if (ok && !wholeBracket && !/^\d/.test(after)) {
                    const tail = /^\.\d+/.exec(s.slice(i + run[0].length));
                    out.push({ k: "num", s: groups.join("") + (tail ? tail[0] : "") });
                    i += run[0].length + (tail ? tail[0].length : 0);
                    continue;
                }
            }
            out.push({ k: "num", s: text });
            i += text.length;
            continue;
        }
        if (/[a-zA-Z]/.test(c)) {
            out.push({ k: "id", s: c });
            i++;
            continue;
        }
        const two = s.slice(i, i + 2);
        const op2 = OPS2.get(two);
        if (op2 !== undefined) {
            out.push({ k: "op", s: op2 });
            i += 2;
            continue;
        }
        if (c === "%") {
            out.push({ k: "op", s: "%" });
            i++;
            continue;
        }
        if (SINGLE_OPS.has(c)) {
            out.push({ k: "op", s: c });
            i++;
            continue;
        }
        throw new ParseError(`unexpected character "${c}"`);
    }
    out.push({ k: "end", s: "" });
    return out;
}
