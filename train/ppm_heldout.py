"""Held-out evaluation of a PPM on preference pairs: which problem a pair belongs to, a problem-disjoint split,
what kind of comparison a pair is, and pairwise accuracy with 95% intervals (overall and by kind).

Pure functions (no torch), so the TypeScript tests can check them through `python3 train/ppm_heldout.py`.
See docs/training.md ("Held-out PPM accuracy") for the definitions.
"""
from __future__ import annotations

import json
import math
import random
import sys
from typing import Dict, List, Optional, Sequence, Tuple

# The official prompt ends with this line (common.SFT_PROMPT_TAIL, officialPrompt in src/data/extract-tree.ts); the
# text before it is "<|user|>:\n" + the question, the same for every pair `rstar extract ppm` takes from one problem.
ASSISTANT_OPENING = "<|assistant|>: Let's think step by step and solve the problem with code."

# Markers that end a solution: the code step that prints the result (it ends at <end_of_code> and carries its
# <output>), and the answer step.
ANSWER_MARKERS = ("<answer>", "<end_of_answer>", "\\boxed")
PRINT_MARKERS = ("<end_of_code>", "<output>")

KINDS = ("code_vs_code", "code_vs_answer", "final_answer")
KIND_TITLES = {
    "code_vs_code": "code step vs code step",
    "code_vs_answer": "code step vs print/answer step (premature answer)",
    "final_answer": "correct vs wrong final answer",
}


def problem_of(prompt: str) -> str:
    """The problem a pair belongs to: its prompt up to the assistant opening (the user turn with the question).

    Every pair of one search tree, and of every tree of the same question, shares it. A prompt without the opening
    (pairs written by other tools) is its own problem."""
    at = prompt.find(ASSISTANT_OPENING)
    return prompt if at < 0 else prompt[:at]


def step_kind(text: str) -> str:
    """"answer" (contains an answer step), "print" (the code step that prints the result), or "code"."""
    if any(m in text for m in ANSWER_MARKERS):
        return "answer"
    if any(m in text for m in PRINT_MARKERS):
        return "print"
    return "code"


def pair_kind(pos: str, neg: str) -> str:
    """code_vs_code: neither side ends the solution; code_vs_answer: one side is a code step that continues, the
    other prints or states an answer (a premature answer when it is the rejected side); final_answer: both sides end
    the solution (print or answer steps, or whole trajectories ending in an answer), so they differ in the answer."""
    finishing = sum(step_kind(t) != "code" for t in (pos, neg))
    return ("code_vs_code", "code_vs_answer", "final_answer")[finishing]


def split_by_problem(problems: Sequence[str], test_fraction: float, seed: int) -> Tuple[List[int], List[int]]:
    """Indices (train, test) of pairs whose problems are `problems[i]`: whole problems go to one side, about
    `test_fraction` of the distinct problems (at least 1) to the test side. Fewer than 2 problems: no test side."""
    distinct = sorted(set(problems))
    if len(distinct) < 2 or test_fraction <= 0:
        return list(range(len(problems))), []
    rng = random.Random(seed)
    rng.shuffle(distinct)
    n_test = min(len(distinct) - 1, max(1, int(len(distinct) * test_fraction + 0.5)))  # rounded half up
    held = set(distinct[:n_test])
    train = [i for i, p in enumerate(problems) if p not in held]
    test = [i for i, p in enumerate(problems) if p in held]
    return train, test


def wilson(correct: int, n: int, z: float = 1.959964) -> Optional[List[float]]:
    """Wilson score interval for a binomial proportion (pairs treated as independent)."""
    if n == 0:
        return None
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def problem_bootstrap(hits: Sequence[bool], problems: Sequence[str], resamples: int = 2000, seed: int = 0) -> Optional[List[float]]:
    """Percentile 95% interval of accuracy, resampling whole problems (pairs of one problem are not independent)."""
    if not hits:
        return None
    per: Dict[str, List[int]] = {}
    for hit, problem in zip(hits, problems):
        c = per.setdefault(problem, [0, 0])
        c[0] += int(hit)
        c[1] += 1
    groups = list(per.values())
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        correct = total = 0
        for _ in range(len(groups)):
            c, n = groups[rng.randrange(len(groups))]
            correct += c
            total += n
        values.append(correct / total)
    values.sort()
    lo = values[int(0.025 * (resamples - 1))]
    hi = values[int(math.ceil(0.975 * (resamples - 1)))]
    return [round(lo, 4), round(hi, 4)]


def summarize(hits: Sequence[bool], problems: Sequence[str]) -> dict:
    n = len(hits)
    correct = sum(1 for h in hits if h)
    return {
        "pairs": n,
        "problems": len(set(problems)),
        "correct": correct,
        "accuracy": round(correct / n, 4) if n else None,
        "wilson95": wilson(correct, n),
        "bootstrap95": problem_bootstrap(hits, problems),
    }


def heldout_report(hits: Sequence[bool], kinds: Sequence[str], problems: Sequence[str]) -> dict:
    """Accuracy overall and by kind, each with its sample size (pairs, problems) and two 95% intervals."""
    report = summarize(hits, problems)
    report["by_kind"] = {}
    for kind in KINDS:
        idx = [i for i, k in enumerate(kinds) if k == kind]
        report["by_kind"][kind] = summarize([hits[i] for i in idx], [problems[i] for i in idx])
    return report


def _main() -> int:
    """`python3 train/ppm_heldout.py split|kinds|report` with JSON on stdin: the TypeScript tests' entry point."""
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    data = json.load(sys.stdin)
    if command == "split":
        problems = [problem_of(str(r["prompt"])) for r in data["records"]]
        train, test = split_by_problem(problems, float(data["test_fraction"]), int(data["seed"]))
        out: object = {"train": train, "test": test}
    elif command == "kinds":
        out = [pair_kind(str(r["pos"]), str(r["neg"])) for r in data["records"]]
    elif command == "report":
        out = heldout_report([bool(h) for h in data["hits"]], data["kinds"], data["problems"])
    else:
        sys.stderr.write("usage: ppm_heldout.py split|kinds|report < input.json\n")
        return 2
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
