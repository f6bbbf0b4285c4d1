/**
 * String-level clean-up of an answer before tokenizing: delimiters, LaTeX spacing and sizing noise, frac/binom
 * variants, degrees, currency, trailing units and punctuation, unicode symbols. Pure and linear-time.
 */

/** Longest answer (in characters) the grader parses; longer ones are compared as text only. */
export const MAX_ANSWER_CHARS = 4000;

const UNICODE: Array<[RegExp, string]> = [
    [/[\u2212\u2013\u2014\u2012\uFE63\uFF0D]/g, "-"],
    [/\u00D7/g, "\\times "],
    [/[\u00B7\u22C5]/g, "\\cdot "],
    [/\u00F7/g, "\\div "],
    [/\u03C0/g, "\\pi "],
    [/\u221E/g, "\\infty "],
    [/\u00B0/g, "^\\circ "],
    [/\u2264/g, "\\leq "],
    [/\u2265/g, "\\geq "],
    [/\u2260/g, "\\neq "],
    [/\u221A/g, "\\sqrt "],
    [/\u00B2/g, "^2"],
    [/\u00B3/g, "^3"],
    [/\u222A/g, "\\cup "],
    [/\u00B1/g, "\\pm "],
    [/\u2208/g, "\\in "],
    [/\u2205/g, "\\emptyset "],
    [/[\u00A0\u2009\u202F\u3000]/g, " "],
    [/\uFF0C/g, ","],
];

/** Commands whose single brace argument is kept as plain content. */
const UNWRAP = "text|textbf|textit|textrm|textsf|texttt|textnormal|mbox|mathrm|mathbf|mathit|mathsf|mathtt|mathnormal|boldsymbol|bm|operatorname|mathbb|mathcal|mathfrak|hbox|emph";
const UNWRAP_RE = new RegExp(`\\\\(?:${UNWRAP})\\s*\\{`, "g");

/** Unit words dropped after a number (plain text, no \text{}). A closed list: lone letters are never dropped. */
const UNIT_WORDS =
    "units?|square units|sq units|cm|mm|km|meters?|metres?|centimeters?|centimetres?|millimeters?|kilometers?|inch(?:es)?|feet|foot|ft|yards?|yd|miles?|mi|mph|kg|grams?|kilograms?|pounds?|lbs?|oz|ounces?|liters?|litres?|ml|gallons?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|dollars?|cents?|euros?|points?|people|persons?|students?|ways|times|degrees?|deg|radians?|rad|cubic units|sq ft|sq m";
const UNIT_TAIL_RE = new RegExp(`([0-9}.)])\\s*(?:square\\s+|cubic\\s+|sq\\.?\\s+)?(?:${UNIT_WORDS})\\.?(?:\\s*(?:\\^\\s*\\{?[23]\\}?))?\\s*$`, "i");

/** Finds the index of the brace closing the one at `open` (which must be "{"), honouring `\{` and `\}`. */
export function matchBrace(s: string, open: number): number {
    let depth = 0;
    for (let i = open; i < s.length; i++) {
        const c = s[i];
        if (c === "\\") {
            i++;
            continue;
        }
        if (c === "{") depth++;
        else if (c === "}") {
            depth--;
            if (depth === 0) return i;
        }
    }
    return -1;
}

/** Removes `\cmd{…}` wrappers, keeping the content (single pass per occurrence, left to right). */
function unwrapCommands(s: string): string {
    let out = s;
    for (let guard = 0; guard < 200; guard++) {
        UNWRAP_RE.lastIndex = 0;
        const m = UNWRAP_RE.exec(out);
        if (!m) break;
        const open = m.index + m[0].length - 1;
        const close = matchBrace(out, open);
        if (close < 0) {
            out = out.slice(0, m.index) + out.slice(open + 1);
            continue;
        }
        out = out.slice(0, m.index) + " " + out.slice(open + 1, close) + " " + out.slice(close + 1);
    }
    return out;
}

/** Strips one layer of `$…$`, `\(…\)`, `\[…\]`, `\boxed{…}`/`\fbox{…}` around the whole string; repeats. */
export function stripDelimiters(input: string): string {
    let s = input.trim();
    for (let guard = 0; guard < 20; guard++) {
        const before = s;
        if (/^\$\$[\s\S]*\$\$$/.test(s) && s.length >= 4) s = s.slice(2, -2).trim();
        else if (/^\$[\s\S]*\$$/.test(s) && s.length >= 2 && !s.endsWith("\\$")) s = s.slice(1, -1).trim();
        else if (s.startsWith("\\(") && s.endsWith("\\)")) s = s.slice(2, -2).trim();
        else if (s.startsWith("\\[") && s.endsWith("\\]")) s = s.slice(2, -2).trim();
        const boxed = /^\\(?:boxed|fbox)\s*\{/.exec(s);
        if (boxed) {
            const open = boxed[0].length - 1;
            const close = matchBrace(s, open);
            if (close === s.length - 1) s = s.slice(open + 1, close).trim();
        }
        if (s === before) break;
    }
    return s;
}

export interface Normalized {
    /** The cleaned answer. */
    text: string;
    /** Whether the whole answer was one `\text{…}`-like group (then words mean a text answer). */
    wholeText: boolean;
}

export function normalizeAnswer(raw: string): Normalized {
    let s = raw;
    for (const [re, to] of UNICODE) s = s.replace(re, to);
    // Doubled backslashes before command names (JSON double-escaping: `\\frac`) are one backslash.
    s = s.replace(/(?<!\\)\\\\(?=(?:frac|dfrac|tfrac|sqrt|left|right|pi|text|textbf|mathrm|cdot|times|infty|le|leq|ge|geq|neq|ne|lt|gt|pm|circ|sin|cos|tan|log|ln|alpha|beta|gamma|theta|in|cup|boxed)(?![a-zA-Z]))/g, "\\");
    s = stripDelimiters(s);
    // Dollar signs: currency (\$) and stray math delimiters inside the answer.
    s = s.replace(/\\\$/g, " ").replace(/\$/g, " ");
    s = stripDelimiters(s);
    s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)\b/g, " ");
    s = s.replace(/\\(?:left|right)\s*\./g, " ");
    s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|middle)(?![a-zA-Z])/g, "");
    s = s.replace(/,\s*\\!\s*/g, ",").replace(/(?<!\\)\\!/g, "").replace(/\{,\}/g, ",");
    s = s.replace(/(?<!\\)\\(?:,|;|:|>| )/g, " ").replace(/\\q?quad\b/g, " ").replace(/~/g, " ");
    s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac").replace(/\\[dt]binom(?![a-zA-Z])/g, "\\binom");
    s = s.replace(/\\(?:dotsc|dotsb|dots|ldots|cdots)(?![a-zA-Z])/g, "\\dots");
    const wholeText = /^\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|textsf)\s*\{/.test(s.trim()) && matchBrace(s.trim(), s.trim().indexOf("{")) === s.trim().length - 1;
    // Connectives between items: "a \text{ and } b", "a and b", "a or b".
    s = s.replace(/\\(?:text|textnormal|mbox|textrm|mathrm)\s*\{\s*,?\s*(?:and|or)\s*,?\s*\}/g, ",");
    // Degrees.
    s = s.replace(/\^\s*\{\s*\\circ\s*\}\s*(?:\\text\s*\{\s*[CF]\s*\}|[CF](?![a-zA-Z]))?/g, " ").replace(/\^\s*\\circ/g, " ").replace(/\\circ\b/g, " ").replace(/\\degree\b/g, " ");
    // Trailing units in \text{…}, \mbox{…} (with an exponent), repeatedly, when something precedes them.
    for (let guard = 0; guard < 5; guard++) {
        const m = /\\(?:text|textnormal|mbox|mathrm|textrm|textit)\s*\{\s*([a-zA-Z][a-zA-Z .\/]*)\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*\.?\s*$/.exec(s);
        if (!m || m.index === 0 || s.slice(0, m.index).trim() === "") break;
        if (/^(?:and|or)$/i.test((m[1] ?? "").trim())) break;
        s = s.slice(0, m.index);
    }
    s = unwrapCommands(s);
    s = s.replace(/\s+/g, " ").trim();
    // Words that stand for %.
    s = s.replace(/\s*(?:percent(?:age)?|pct)\.?$/i, "\\%").replace(/(^|[^\\])%/g, "$1\\%");
    // Trailing "degrees" and unit words after a number.
    for (let guard = 0; guard < 3; guard++) {
        const next = s.replace(UNIT_TAIL_RE, "$1").trim();
        if (next === s) break;
        s = next;
    }
    s = s.replace(/\s+(?:and|or)\s+/g, ", ");
    // Trailing punctuation (a trailing period of "9." is dropped too).
    for (let guard = 0; guard < 5; guard++) {
        const next = s.replace(/(?:\\\.|[.,;:])\s*$/, "").trim();
        if (next === s) break;
        s = next;
    }
    s = stripDelimiters(s);
    return { text: s, wholeText };
}

/** Text answers compare case-insensitively, ignoring spaces, braces and surrounding punctuation. */
export function canonicalText(raw: string): string {
    let s = raw;
    for (const [re, to] of UNICODE) s = s.replace(re, to);
    s = stripDelimiters(s).replace(/\\\$/g, "").replace(/\$/g, "");
    s = unwrapCommands(s);
    s = s.replace(/\\[,;:! ]/g, " ").replace(/[{}]/g, "").replace(/\s+/g, "").toLowerCase();
    return s.replace(/[.,;:]+$/, "");
}
