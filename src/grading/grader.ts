/**
 * The grader: analyse both answers, compare by type with the fast path, and send only the leaves it cannot decide
 * to sympy, in one batch per pair. Total: every public method returns a verdict and never throws.
 */
import { RstarError, describeError } from "../errors/index.js";
import { findPython } from "../util/index.js";
import { analyze, type Answer } from "./answer.js";
import { toWire, type WireNode } from "./ast.js";
import { CasClient, type CasVerdict } from "./cas-client.js";
import { Comparer, fastLeaf, queryKey, type LeafQuery, type Tri } from "./compare.js";
import { finalAnswer } from "./extract.js";

export interface GraderOptions {
    /**
     * Milliseconds the CAS may spend on one pair (all its questions together). Past it the helper process is killed
     * and restarted, and the pair is judged not equal with method "timeout". Default 10000.
     */
    timeoutMs?: number;
    /** Milliseconds allowed for the Python helper to start and import sympy. Default 60000. */
    startupTimeoutMs?: number;
    /** Python interpreter with sympy. Default: `findPython({ modules: ["sympy"] })` ($RSTAR_PYTHON, python3, /usr/bin/python3). */
    python?: string;
    /** Whether to use the CAS at all. With false, pairs the fast path cannot decide are not equal (method "no-cas"). Default true. */
    cas?: boolean;
    /** Most distinct CAS questions one pair may need (a set of n items asks up to n² of them). Default 256. */
    maxCasQueries?: number;
    /** Answers kept analysed in memory (gold answers repeat across rollouts). Default 10000 entries. */
    cacheSize?: number;
}

export interface JudgeOptions {
    /**
     * Treat pred as raw model text and grade its final answer (`finalAnswer`): the last `\boxed{…}`/`\fbox{…}`, else
     * the last "the answer is …" phrase, else the whole text. Default false: pred is compared as it is (the search
     * passes answers it has already extracted). `rstar grade` turns this on unless given `--no-extract`.
     */
    extract?: boolean;
}

export interface Judgement {
    equal: boolean;
    /**
     * How the verdict was reached: "fast" (exact arithmetic and structure in TypeScript), "cas" (sympy),
     * "text", "choice", "no-answer" (an empty prediction), "no-gold" (no gold answer, or an empty one), "timeout",
     * "cas-unavailable", "no-cas", "too-many-queries", "error".
     */
    method: string;
    reason?: string;
    /** With `extract`: the answer taken out of pred, when it differs from pred. */
    extracted?: string;
}

export interface Grader {
    equal(gold: string | readonly string[], pred: string, options?: JudgeOptions): Promise<boolean>;
    judge(gold: string | readonly string[], pred: string, options?: JudgeOptions): Promise<Judgement>;
    /** Synchronous fast path: a verdict when no CAS is needed, undefined when it is. */
    equalFast(gold: string | readonly string[], pred: string): boolean | undefined;
    dispose(): void;
    [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULTS = { timeoutMs: 10_000, startupTimeoutMs: 60_000, maxCasQueries: 256, cacheSize: 10_000 };

class AnswerCache {
    private readonly map = new Map<string, Answer>();
    constructor(private readonly size: number) {}
    get(raw: string): Answer {
        const hit = this.map.get(raw);
        if (hit !== undefined) return hit;
        const answer = analyze(raw);
        if (this.size > 0) {
            if (this.map.size >= this.size) {
                const first = this.map.keys().next();
                if (!first.done) this.map.delete(first.value);
            }
            this.map.set(raw, answer);
        }
        return answer;
    }
}

const shared = new AnswerCache(10_000);

interface Phase1 {
    result: Tri;
    queries: Map<string, LeafQuery>;
}

function firstPass(gold: Answer, pred: Answer): Phase1 {
    const queries = new Map<string, LeafQuery>();
    const fast = new Map<string, Tri>();
    const comparer = new Comparer((q) => {
        const k = queryKey(q);
        if (fast.has(k)) return fast.get(k);
        const r = fastLeaf(q);
        fast.set(k, r);
        if (r === undefined) queries.set(k, q);
        return r;
    });
    return { result: safeCompare(comparer, gold, pred), queries };
}

function safeCompare(comparer: Comparer, gold: Answer, pred: Answer): Tri {
    try {
        return comparer.answers(gold, pred);
    } catch {
        // A stack overflow or an arithmetic edge in a pathological tree: not equal.
        return false;
    }
}

function methodOf(answer: Answer): string {
    return answer.node.t === "text" ? "text" : answer.node.t === "choice" ? "choice" : "fast";
}

function wireQuery(q: LeafQuery): unknown {
    const w = (n: Parameters<typeof toWire>[0]): WireNode => {
        const x = toWire(n);
        if (x === undefined) throw new RstarError("INTERNAL", "non-scalar leaf sent to the CAS");
        return x;
    };
    switch (q.kind) {
        case "expr":
            return { kind: "expr", a: w(q.a), b: w(q.b), places: q.places };
        case "eqn":
            return { kind: "eqn", a: [w(q.a[0]), w(q.a[1])], b: [w(q.b[0]), w(q.b[1])] };
        case "ineq":
            return { kind: "ineq", a: w(q.a), b: w(q.b) };
    }
}

/** The gold alternatives worth comparing: strings that are not blank (an empty gold answer matches nothing). */
function golds(gold: string | readonly string[]): string[] {
    const list: unknown[] = typeof gold === "string" ? [gold] : Array.isArray(gold) ? gold : [];
    return list.filter((g): g is string => typeof g === "string" && g.trim() !== "");
}

export function createGrader(options: GraderOptions = {}): Grader {
    const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const maxQueries = options.maxCasQueries ?? DEFAULTS.maxCasQueries;
    const cache = options.cacheSize === undefined ? shared : new AnswerCache(options.cacheSize);
    const useCas = options.cas ?? true;
    let cas: CasClient | undefined;
    let casError: string | undefined;

    function client(): CasClient | undefined {
        if (cas !== undefined || casError !== undefined) return cas;
        try {
            const python = options.python ?? findPython({ modules: ["sympy"], purpose: "answer grading (sympy)" });
            cas = new CasClient({ python, startupTimeoutMs: options.startupTimeoutMs ?? DEFAULTS.startupTimeoutMs });
        } catch (error) {
            casError = describeError(error);
        }
        return cas;
    }

    async function judgeOne(goldRaw: string, pred: Answer): Promise<Judgement> {
        const gold = cache.get(goldRaw);
        const first = firstPass(gold, pred);
        if (first.result !== undefined) {
            const method = methodOf(gold) === "fast" ? methodOf(pred) : methodOf(gold);
            return first.result ? { equal: true, method } : { equal: false, method, reason: "not equivalent" };
        }
        if (!useCas) return { equal: false, method: "no-cas", reason: "needs the CAS, which is turned off" };
        if (first.queries.size > maxQueries) return { equal: false, method: "too-many-queries", reason: `needs ${first.queries.size} CAS questions (limit ${maxQueries})` };
        const c = client();
        if (c === undefined) return { equal: false, method: "cas-unavailable", reason: casError ?? "CAS unavailable" };
        const entries = [...first.queries.entries()];
        let verdicts: CasVerdict[];
        try {
            verdicts = await c.ask(entries.map(([, q]) => wireQuery(q)), timeoutMs);
        } catch (error) {
            const timeout = RstarError.isInstance(error) && error.code === "GRADER_TIMEOUT";
            if (!timeout && RstarError.isInstance(error) && error.code === "GRADER_UNAVAILABLE" && /did not start|cannot start/.test(error.message)) {
                casError = error.message;
            }
            return { equal: false, method: timeout ? "timeout" : "cas-unavailable", reason: describeError(error) };
        }
        const answers = new Map<string, CasVerdict>();
        entries.forEach(([k], i) => {
            const v = verdicts[i];
            if (v !== undefined) answers.set(k, v);
        });
        const comparer = new Comparer((q) => {
            const k = queryKey(q);
            const v = answers.get(k);
            return v !== undefined ? v.equal : fastLeaf(q);
        });
        const result = safeCompare(comparer, gold, pred);
        if (result === true) return { equal: true, method: "cas" };
        const why = [...answers.values()].find((v) => !v.equal && v.reason !== undefined)?.reason;
        return { equal: false, method: "cas", reason: why ?? (result === undefined ? "undecided" : "not equivalent") };
    }

    async function judge(gold: string | readonly string[], predRaw: string, judgeOptions: JudgeOptions = {}): Promise<Judgement> {
        try {
            const alternatives = golds(gold);
            if (alternatives.length === 0) return { equal: false, method: "no-gold", reason: "the gold answer is empty" };
            const raw = typeof predRaw === "string" ? predRaw : "";
            let pred = raw;
            let extracted: string | undefined;
            if (judgeOptions.extract === true) {
                const found = finalAnswer(raw);
                if (found === null) return { equal: false, method: "no-answer", reason: "the prediction is empty" };
                pred = found.answer;
                if (pred !== raw) extracted = pred;
            } else if (raw.trim() === "") {
                return { equal: false, method: "no-answer", reason: "the prediction is empty" };
            }
            const predAnswer = cache.get(pred);
            let last: Judgement = { equal: false, method: "fast", reason: "not equivalent" };
            for (const g of alternatives) {
                const j = await judgeOne(g, predAnswer);
                if (j.equal) return extracted === undefined ? j : { ...j, extracted };
                last = j;
            }
            return extracted === undefined ? last : { ...last, extracted };
        } catch (error) {
            return { equal: false, method: "error", reason: describeError(error) };
        }
    }

    const equalFastHere = (gold: string | readonly string[], pred: string): boolean | undefined => fastVerdict(cache, gold, pred);

    return {
        judge,
        equalFast: equalFastHere,
        equal: async (gold, pred, judgeOptions) => (await judge(gold, pred, judgeOptions)).equal,
        dispose: () => cas?.dispose(),
        [Symbol.asyncDispose]: async () => cas?.dispose(),
    };
}

function fastVerdict(cache: AnswerCache, gold: string | readonly string[], pred: string): boolean | undefined {
    try {
        const predAnswer = cache.get(typeof pred === "string" ? pred : "");
        let undecided = false;
        for (const g of golds(gold)) {
            const r = firstPass(cache.get(g), predAnswer).result;
            if (r === true) return true;
            if (r === undefined) undecided = true;
        }
        return undecided ? undefined : false;
    } catch {
        return false;
    }
}

/** The fast path on its own (no Python): true/false when decidable without the CAS, undefined when only the CAS can say. */
export function equalFast(gold: string | readonly string[], pred: string): boolean | undefined {
    return fastVerdict(shared, gold, pred);
}
