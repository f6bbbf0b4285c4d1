"""A small, seeded imitation of the synthetic domain (src/synth) in the rStar step format, for test models only.

Real training uses `rstar synth generate` (sft-train.jsonl); this exists so that make_test_model.py needs no Node.
"""
from __future__ import annotations

import random
from typing import List, Tuple

NAMES = ["Mei", "Omar", "Emma", "Liam", "Ava", "Noah", "Zoe", "Ravi"]
THINGS = ["apples", "marbles", "stickers", "books", "pencils", "eggs", "crayons", "muffins"]
EVENTS = [
    ("buys {n} more {t}", "add", "+"),
    ("finds {n} {t}", "add", "+"),
    ("gives away {n} {t}", "subtract", "-"),
    ("loses {n} {t}", "subtract", "-"),
    ("ends up with {n} times as many {t}", "multiply by", "*"),
]


def problem(rng: random.Random) -> Tuple[str, str, int]:
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    value = rng.randint(10, 60)
    sentences = [f"{name} has {value} {thing}."]
    steps: List[str] = []
    var = f"{name.lower()}_{thing}"
    prev = str(value)
    for k in range(rng.randint(1, 4)):
        text, verb, op = rng.choice(EVENTS if value > 2 else EVENTS[:2])
        n = rng.randint(2, 4) if op == "*" else rng.randint(1, min(30, value - 1) if op == "-" else 30)
        sentences.append(f"{name} {text.format(n=n, t=thing)}.")
        value = value + n if op == "+" else value - n if op == "-" else value * n
        new_var = f"{var}_{k + 1}"
        steps.append(f"# Step {k + 1}: {name} {text.format(n=n, t=thing)}, so {verb} {n}\n{new_var} = {prev} {op} {n}\n<end_of_step>\n")
        prev = new_var
    sentences.append(f"How many {thing} does {name} have now?")
    response = (
        "<code>\n"
        + "".join(steps)
        + f"# Now print the final answer\nprint({prev})\n<end_of_code>\n<output>{value}<end_of_output>\n"
        + f"<answer>{name} has \\boxed{{{value}}} {thing}.<end_of_answer>"
    )
    return " ".join(sentences), response, value


def corpus(n: int, seed: int = 0) -> List[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        q, r, a = problem(rng)
        out.append({"query": q, "response": r, "answer": a})
    return out
