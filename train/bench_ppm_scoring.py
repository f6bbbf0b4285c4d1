#!/usr/bin/env python3
"""Benchmark (npm run bench -- ppm): PPM training throughput, per-pair scoring against grouped scoring (ppm_groups).

Pairs shaped like `rstar extract ppm --final-pairs paper` output of a search tree, built from the mini corpus: per
problem, at every step a pair (reference step vs a step with a wrong number) on the shared prefix, and two
final-answer pairs of whole trajectories. Forward and backward of the Bradley-Terry loss on the same model and pairs,
one after the other; prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import sft_prompt  # noqa: E402
from mini_corpus import corpus  # noqa: E402
from ppm_groups import batches_of, build_groups, group_values  # noqa: E402
from rstar_model import PRESETS, Llama, ModelConfig, ValueHead  # noqa: E402
from rstar_tokenizer import train_bpe  # noqa: E402
from trainer import ppm_ids, value_of  # noqa: E402


def tree_pairs(records, rng):
    out = []
    for r in records:
        prompt = sft_prompt(r["query"])
        steps = r["response"].split("<end_of_step>\n")
        code, tail = steps[:-1], steps[-1]
        wrong = [s.replace(s.split(" ")[-1], str(rng.randint(31, 99))) for s in code]  # the last operand misread
        prefix = ""
        for good, bad in zip(code, wrong):
            out.append((prompt + prefix, good + "<end_of_step>\n", bad + "<end_of_step>\n", r["query"]))
            prefix += good + "<end_of_step>\n"
        for k in range(2):  # final-answer pairs: the right trajectory against one with step k misread
            misread = "".join((w if i == k % len(code) else g) + "<end_of_step>\n" for i, (g, w) in enumerate(zip(code, wrong)))
            out.append((prompt, r["response"], misread + tail, r["query"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=60)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    records = corpus(args.problems, seed=5)
    tok = train_bpe([sft_prompt(r["query"]) + r["response"] for r in records], 300)
    model = Llama(ModelConfig(vocab_size=tok.vocab_size, **PRESETS[args.preset]))
    head = ValueHead(model.cfg.dim)
    raw = tree_pairs(records, random.Random(1))
    pairs = [(ppm_ids(tok, p, a, 768), ppm_ids(tok, p, b, 768), 1.0, q, "k") for p, a, b, q in raw]

    def per_pair():
        for i in range(0, len(pairs), args.batch):
            chunk = pairs[i : i + args.batch]
            v = value_of(model, head, [p[0] for p in chunk] + [p[1] for p in chunk])
            (-F.logsigmoid(v[: len(chunk)] - v[len(chunk) :])).sum().backward()

    def grouped():
        groups = build_groups(pairs, 768)
        for chunk in batches_of(groups, range(len(groups)), args.batch, 16384):
            pos, neg, factor = group_values(model, head, chunk)
            (-F.logsigmoid(pos - neg) * factor).sum().backward()

    timings = {}
    for name, fn in (("per_pair", per_pair), ("grouped", grouped)):
        started = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - started
    tokens_pairs = sum(len(p[0]) + len(p[1]) for p in pairs)
    tokens_grouped = sum(g.tokens for g in build_groups(pairs, 768))
    print(json.dumps({"pairs": len(pairs), "problems": len(records), "params": model.num_params(),
                      "per_pair_pairs_per_s": len(pairs) / timings["per_pair"], "grouped_pairs_per_s": len(pairs) / timings["grouped"],
                      "tokens_per_pair_scoring": tokens_pairs, "tokens_grouped": tokens_grouped}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
