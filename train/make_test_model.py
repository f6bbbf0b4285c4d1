#!/usr/bin/env python3
"""Writes a small llama GGUF + tokenizer + value head + golden outputs, for tests of the llama.cpp backends.

  /usr/bin/python3 train/make_test_model.py --out DIR [--steps 60] [--data sft-train.jsonl] [--seed 0]

Fast (well under a minute on 2 cores): trains the BPE tokenizer on a small synthetic corpus (mini_corpus.py, or
--data), trains a 64x2 llama for a few steps so its greedy output has some structure, and writes (layout in
train/README.md): model.gguf (F32), model-f16.gguf, tokenizer.json, config.json, checkpoint.pt,
value_head.safetensors, value_head.json, golden.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402

from common import Progress, make_batches, read_jsonl, set_threads, sft_example, sft_prompt  # noqa: E402
from gguf_writer import write_gguf  # noqa: E402
from mini_corpus import corpus  # noqa: E402
from rstar_model import PRESETS, Llama, ModelConfig, ValueHead, save_checkpoint, write_config  # noqa: E402
from rstar_tokenizer import BOS_ID, Tokenizer, train_bpe  # noqa: E402
from trainer import SCORE_SCALE, save_value_head, sft_loss  # noqa: E402

TRICKY_TEXTS = [
    "x = 3 * 4\nprint(x)",
    "<code>\n# Step 1: add\nmei_apples_1 = 33 + 5\n<end_of_step>\n<end_of_step><end_of_step>",
    "\n\n\t  indented   \r\n  trailing spaces   ",
    "it's they're we've I'm you'll he'd",
    "12345678901234567890 and 3.14159",
    "Café naïve – 😀 emoji ✓",
    "<output>51<end_of_output>\n<answer>Emma has \\boxed{51} dollars left.<end_of_answer>",
    "<|user|>:\nHow many?\n<|assistant|>: Let's think step by step and solve the problem with code.",
    "<|bos|> control <|endoftext|> tokens <|pad|>",
    "",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="{query, response} JSONL to train on (default: a built-in mini corpus)")
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--merges", type=int, default=256)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--greedy-tokens", type=int, default=48)
    args = ap.parse_args()
    set_threads(1)
    torch.manual_seed(args.seed)
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    progress = Progress()

    if args.data:
        records, _ = read_jsonl(args.data, ["query", "response"])
        records = records[: args.records]
    else:
        records = corpus(args.records, seed=args.seed)
    texts = [sft_prompt(r["query"]) + r["response"] for r in records]
    tok = train_bpe(texts, args.merges)
    progress.emit("tokenizer", vocab_size=tok.vocab_size)

    model = Llama(ModelConfig(vocab_size=tok.vocab_size, context_length=512, **PRESETS["test"]))
    held_out = records[-3:]
    examples = [e for e in (sft_example(tok, r["query"], r["response"], 512) for r in records[:-3]) if e is not None]
    lengths = [len(e[0]) for e in examples]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    rng = random.Random(args.seed)
    step = 0
    losses = []
    while step < args.steps:
        for batch in make_batches(lengths, 1024, 16, rng):
            if step >= args.steps:
                break
            loss, _ = sft_loss(model, [examples[i] for i in batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            losses.append(float(loss))
    progress.emit("trained", steps=step, first_loss=losses[0] if losses else None, last_loss=losses[-1] if losses else None)
    model.eval()

    write_gguf(os.path.join(args.out, "model.gguf"), model, tok, name="rstar-test", f16=False)
    write_gguf(os.path.join(args.out, "model-f16.gguf"), model, tok, name="rstar-test", f16=True)
    tok.save(os.path.join(args.out, "tokenizer.json"))
    write_config(model, os.path.join(args.out, "config.json"), {"gguf_type": "F32", "tokenizer": "tokenizer.json"})
    save_checkpoint(model, os.path.join(args.out, "checkpoint.pt"))

    head = ValueHead(model.cfg.dim)
    g = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():  # non-trivial scores for tests: raw outputs of a few units
        head.summary.weight.copy_(torch.randn(1, model.cfg.dim, generator=g) * (3.0 / math.sqrt(model.cfg.dim)))
        head.summary.bias.fill_(0.25)
    save_value_head(head, args.out, model.cfg.dim)

    golden: dict = {"vocab_size": tok.vocab_size, "bos_id": 0, "eos_id": 1, "pad_id": 2, "tokenize": [], "greedy": [], "hidden": []}
    for text in TRICKY_TEXTS:
        golden["tokenize"].append({"text": text, "ids": tok.encode(text, parse_special=True), "ids_no_special": tok.encode(text, parse_special=False)})
    with torch.no_grad():
        for r in held_out:
            prompt = sft_prompt(r["query"])
            ids = [BOS_ID] + tok.encode(prompt)
            out = model.greedy(ids, args.greedy_tokens)
            golden["greedy"].append({"prompt": prompt, "prompt_ids": ids, "ids": out, "text": tok.decode(out)})
        for text in [sft_prompt(held_out[0]["query"]), sft_prompt(held_out[1]["query"], "<code>\n# Step 1: start\n"), "a short text"]:
            ids = [BOS_ID] + tok.encode(text)
            h = model.hidden(torch.tensor([ids]))[0, -1]
            raw = float(head(h))
            golden["hidden"].append({"text": text, "ids": ids, "last_hidden": [float(x) for x in h], "value_raw": raw, "score": math.tanh(raw / SCORE_SCALE)})
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
    progress.emit("done", out=args.out, seconds=round(time.time() - t0, 1), params=model.num_params())
    return 0


if __name__ == "__main__":
    sys.exit(main())
