#!/usr/bin/env python3
"""rStar-Math tiny-model trainer: policy SFT and the process preference model (PPM), on CPU with PyTorch.

  python3 train/trainer.py sft --data sft-train.jsonl --out DIR [--preset tiny] [--epochs 1] ...
  python3 train/trainer.py ppm --pairs pairs.jsonl --base POLICY_DIR --out DIR [--epochs 1] ...
  python3 train/trainer.py eval-ppm --model PPM_DIR --pairs heldout-pairs.jsonl [--out metrics.json]

Progress goes to stdout as JSON lines ({"event": "step" | "eval" | "epoch" | "done" | "error" | ...}); the TypeScript
driver (`rstar train sft|ppm`) displays them. Exit codes: 0 ok, 2 bad input, 70 internal error.
See docs/training.md for the file layout, sizes and measured numbers.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import traceback
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _threads_from_argv() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return "1"


# BLAS threads must be fixed before torch loads (OpenBLAS otherwise spins up one per core and fights torch's).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads_from_argv())

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import InputProblem, Progress, lr_at, make_batches, pad, read_jsonl, set_threads, sft_example, sft_prompt  # noqa: E402
from gguf_writer import write_gguf  # noqa: E402
from rstar_model import PRESETS, Llama, ModelConfig, ValueHead, load_checkpoint, load_model_dir, save_checkpoint, write_config  # noqa: E402
from rstar_tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer, train_bpe  # noqa: E402
from ppm_groups import batches_of, build_groups, group_values  # noqa: E402
from ppm_heldout import heldout_report, pair_kind, problem_of, split_by_problem  # noqa: E402
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

SCORE_SCALE = 5.0


# ---------------------------------------------------------------- SFT
def sft_loss(model: Llama, batch: Sequence[Tuple[List[int], int]]) -> Tuple[torch.Tensor, int]:
    ids = pad([b[0] for b in batch])
    labels = ids[:, 1:].clone()
    for row, (seq, start) in enumerate(batch):
        labels[row, : start - 1] = -100  # no loss on the prompt
        labels[row, len(seq) - 1 :] = -100  # nor on padding
    logits = model(ids[:, :-1])
    n = int((labels != -100).sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
    return loss, n


@torch.no_grad()
def eval_sft(model: Llama, examples, max_tokens: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for batch in make_batches([len(e[0]) for e in examples], max_tokens, 64, random.Random(0)):
        loss, n = sft_loss(model, [examples[i] for i in batch])
        total += float(loss) * n
        count += n
    model.train()
    return total / max(1, count)


def run_code(code: str, timeout_s: float = 2.0) -> Optional[str]:
    """Runs a generated program in a separate Python (no network isolation: our own model's arithmetic only)."""
    import subprocess

    try:
        r = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip()


@torch.no_grad()
def solve_rate(model: Llama, tok: Tokenizer, problems: List[dict], max_new: int = 400) -> Dict[str, float]:
    """Greedy full-solution rollouts: generate to <end_of_code>, run the code, append the output, generate the answer."""
    import re

    model.eval()
    solved, formatted = 0, 0
    for p in problems:
        prompt = sft_prompt(p["question"] if "question" in p else p["query"])
        ids = [BOS_ID] + tok.encode(prompt)
        out = generate_until(model, ids, max_new, stop_ids={tok.special_ids["<end_of_code>"], EOS_ID})
        text = tok.decode(out)
        if "<end_of_code>" not in text:
            continue
        code = text.split("<code>", 1)[-1].split("<end_of_code>", 1)[0].replace("<end_of_step>", "")
        observation = run_code(code)
        if observation is None:
            continue
        partial = text + f"\n<output>{observation}<end_of_output>"
        ids2 = [BOS_ID] + tok.encode(prompt + partial)
        out2 = generate_until(model, ids2, 80, stop_ids={tok.special_ids["<end_of_answer>"], EOS_ID})
        answer_text = tok.decode(out2)
        m = re.search(r"\\boxed\{([^}]*)\}", answer_text)
        if m:
            formatted += 1
            if m.group(1).strip() == str(p.get("answer", "")).strip():
                solved += 1
    model.train()
    n = max(1, len(problems))
    return {"solve_rate": solved / n, "answer_format_rate": formatted / n, "problems": len(problems)}


def generate_until(model: Llama, ids: List[int], max_new: int, stop_ids) -> List[int]:
    return model.greedy(ids, max_new, eos_id=EOS_ID, stop_ids=set(stop_ids))


def train_sft(args, progress: Progress) -> dict:
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    records, issues = read_jsonl(args.data, ["query", "response"])
    for msg in issues:
        progress.emit("issue", message=msg)
    if not records:
        raise InputProblem(f"{args.data}: no usable {{query, response}} records")
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    init_tokenizer = os.path.join(args.init, "tokenizer.json") if args.init and os.path.isdir(args.init) else None
    if args.tokenizer:
        tok = Tokenizer.load(args.tokenizer)
    elif init_tokenizer and os.path.isfile(init_tokenizer):  # continuing a model: keep its vocabulary
        tok = Tokenizer.load(init_tokenizer)
    else:
        texts = [sft_prompt(r["query"]) + r["response"] for r in records]
        tok = train_bpe(texts, args.merges)
    progress.emit("tokenizer", vocab_size=tok.vocab_size, merges=len(tok.merges), seconds=round(time.time() - t0, 2))
    examples = []
    too_long = 0
    for r in records:
        ex = sft_example(tok, str(r["query"]), str(r["response"]), args.max_len)
        if ex is None:
            too_long += 1
        else:
            examples.append(ex)
    if not examples:
        raise InputProblem(f"{args.data}: every record is longer than --max-len {args.max_len} tokens")
    rng.shuffle(examples)
    n_eval = min(len(examples) // 10, args.eval_records) if len(examples) >= 20 else 0
    eval_set, train_set = examples[:n_eval], examples[n_eval:]
    if args.init:
        model = load_model_dir(args.init) if os.path.isdir(args.init) else load_checkpoint(args.init)
        if model.cfg.vocab_size != tok.vocab_size:
            raise InputProblem("--init model's vocabulary differs from the tokenizer's (pass --tokenizer from that model)")
    else:
        preset = dict(PRESETS[args.preset])
        for key in ("dim", "n_layers", "n_heads", "ffn_dim"):
            value = getattr(args, key)
            if value:
                preset[key] = value
        preset.setdefault("n_kv_heads", preset["n_heads"])
        preset["n_kv_heads"] = preset["n_heads"]
        model = Llama(ModelConfig(vocab_size=tok.vocab_size, context_length=args.context_length, **preset))
    lengths = [len(e[0]) for e in train_set]
    steps_per_epoch = len(make_batches(lengths, args.batch_tokens, args.max_batch, random.Random(0)))
    total_steps = args.max_steps if args.max_steps else max(1, int(steps_per_epoch * args.epochs))
    progress.emit(
        "start", kind="sft", params=model.num_params(), config=model.cfg.to_json(), train_records=len(train_set), eval_records=len(eval_set),
        skipped_too_long=too_long, mean_tokens=round(sum(lengths) / len(lengths), 1), steps=total_steps, steps_per_epoch=steps_per_epoch,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=args.weight_decay)
    model.train()
    history: list = []
    t_start = time.time()
    interrupted = False
    try:
        step, epoch, tokens_seen, first_loss = _sft_loop(args, progress, model, opt, train_set, eval_set, lengths, total_steps, rng, history)
    except KeyboardInterrupt:  # keep what was trained: the model is saved below and the run reports interrupted
        interrupted = True
        step, epoch, tokens_seen, first_loss = _LOOP_STATE["step"], _LOOP_STATE["epoch"], _LOOP_STATE["tokens"], _LOOP_STATE["first_loss"]
        progress.emit("interrupted", step=step)
    train_seconds = time.time() - t_start
    metrics: dict = {"first_loss": first_loss, "final_loss": history[-1]["loss"] if history else None, "steps": step, "interrupted": interrupted,
                     "train_seconds": round(train_seconds, 1), "tokens_per_s": round(tokens_seen / max(train_seconds, 1e-9)), "params": model.num_params()}
    if eval_set and not interrupted:
        metrics["eval_loss"] = round(eval_sft(model, eval_set, args.batch_tokens), 4)
        progress.emit("eval", step=step, eval_loss=metrics["eval_loss"])
    if args.solve_data and args.solve_count > 0 and not interrupted:
        problems, _ = read_jsonl(args.solve_data, ["answer"])
        t1 = time.time()
        metrics.update(solve_rate(model, tok, problems[: args.solve_count]))
        metrics["solve_seconds"] = round(time.time() - t1, 1)
        progress.emit("solve", **{k: metrics[k] for k in ("solve_rate", "answer_format_rate", "problems")})
    files = save_policy(model, tok, args.out, f16=not args.f32, name=args.name)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({**metrics, "history": history}, f, indent=2)
    files["metrics"] = os.path.join(args.out, "metrics.json")
    if interrupted:
        raise Interrupted(files)
    return {"files": files, "metrics": metrics}


class Interrupted(Exception):
    def __init__(self, files):
        super().__init__("interrupted")
        self.files = files


_LOOP_STATE: dict = {"step": 0, "epoch": 0, "tokens": 0, "first_loss": None}


def _sft_loop(args, progress, model, opt, train_set, eval_set, lengths, total_steps, rng, history):
    step, epoch, tokens_seen, first_loss = 0, 0, 0, None
    t_start = time.time()
    while step < total_steps:
        epoch += 1
        for batch in make_batches(lengths, args.batch_tokens, args.max_batch, rng):
            if step >= total_steps:
                break
            lr = lr_at(step, total_steps, args.lr, args.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            loss, n = sft_loss(model, [train_set[i] for i in batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tokens_seen += sum(lengths[i] for i in batch)
            value = float(loss)
            first_loss = value if first_loss is None else first_loss
            if step % args.log_every == 0 or step == total_steps or step == 1:
                elapsed = time.time() - t_start
                progress.emit("step", step=step, steps=total_steps, epoch=epoch, loss=round(value, 4), lr=lr, tokens_per_s=round(tokens_seen / max(elapsed, 1e-9)))
                history.append({"step": step, "loss": round(value, 4)})
            _LOOP_STATE.update(step=step, epoch=epoch, tokens=tokens_seen, first_loss=first_loss)
            if args.eval_every and step % args.eval_every == 0 and eval_set and step != total_steps:
                progress.emit("eval", step=step, eval_loss=round(eval_sft(model, eval_set, args.batch_tokens), 4))
    return step, epoch, tokens_seen, first_loss


def save_policy(model: Llama, tok: Tokenizer, out: str, f16: bool, name: str) -> Dict[str, str]:
    os.makedirs(out, exist_ok=True)
    files = {
        "gguf": os.path.join(out, "model.gguf"),
        "tokenizer": os.path.join(out, "tokenizer.json"),
        "config": os.path.join(out, "config.json"),
        "checkpoint": os.path.join(out, "checkpoint.pt"),
    }
    write_gguf(files["gguf"], model, tok, name=name, f16=f16)
    tok.save(files["tokenizer"])
    write_config(model, files["config"], {"gguf_type": "F16" if f16 else "F32", "tokenizer": "tokenizer.json"})
    save_checkpoint(model, files["checkpoint"])
    return files


# ---------------------------------------------------------------- PPM
def ppm_factor(pos_count: int, neg_count: int) -> float:
    """Pair weight as the official preprocess_value_dataset: 1/(pos*neg), or 1/(pos+neg) when one is zero."""
    if pos_count == 0 or neg_count == 0:
        return 1.0 / max(1, pos_count + neg_count)
    return 1.0 / (pos_count * neg_count)


def ppm_ids(tok: Tokenizer, prompt: str, step: str, max_len: int) -> List[int]:
    """[BOS] + tokens(prompt + step), as llama.cpp's embedding context sees the text; long inputs keep their end."""
    ids = tok.encode(prompt + step)
    if len(ids) > max_len - 1:
        ids = ids[-(max_len - 1) :]
    return [BOS_ID] + ids


def value_of(model: Llama, head: ValueHead, seqs: Sequence[List[int]]) -> torch.Tensor:
    ids = pad(seqs)
    lengths = torch.tensor([len(s) for s in seqs])
    h = model.hidden(ids)
    last = h[torch.arange(len(seqs)), lengths - 1]
    return head(last)


@torch.no_grad()
def eval_ppm(model, head, pairs, batch: int, max_len: int = 768, batch_tokens: int = 16384) -> Dict[str, object]:
    """Pairwise accuracy (r_pos > r_neg, ties count as wrong) and loss; `hits` says which pairs were ranked right."""
    model.eval()
    hits: List[bool] = [False] * len(pairs)
    raw: List[Tuple[float, float]] = [(0.0, 0.0)] * len(pairs)
    loss_sum = 0.0
    groups = build_groups(pairs, max_len)
    for chunk in batches_of(groups, range(len(groups)), batch, batch_tokens):
        pos, neg, _ = group_values(model, head, chunk)
        indices = [i for g in chunk for i in g.indices]
        for i, p, n in zip(indices, pos.tolist(), neg.tolist()):
            hits[i] = p > n
            raw[i] = (p, n)
        loss_sum += float(-F.logsigmoid(pos - neg).sum())
    model.train()
    total = len(hits)
    return {"accuracy": sum(hits) / max(1, total), "loss": loss_sum / max(1, total), "pairs": total, "hits": hits, "raw": raw}


def read_pairs(path: str, tok: Tokenizer, max_len: int, progress: Progress) -> List[tuple]:
    """(pos_ids, neg_ids, factor, problem, kind) per usable `{prompt, pos, neg[, pos_count, neg_count]}` record."""
    records, issues = read_jsonl(path, ["prompt", "pos", "neg"])
    for msg in issues:
        progress.emit("issue", message=msg)
    if not records:
        raise InputProblem(f"{path}: no usable {{prompt, pos, neg, pos_count, neg_count}} records")
    pairs = []
    for r in records:
        prompt, pos, neg = str(r["prompt"]), str(r["pos"]), str(r["neg"])
        pairs.append((ppm_ids(tok, prompt, pos, max_len), ppm_ids(tok, prompt, neg, max_len),
                      ppm_factor(int(r.get("pos_count", 1)), int(r.get("neg_count", 1))), problem_of(prompt), pair_kind(pos, neg)))
    return pairs


def heldout_of(test: Sequence[tuple], ev: Dict[str, object]) -> dict:
    return heldout_report(ev["hits"], [p[4] for p in test], [p[3] for p in test])  # type: ignore[arg-type]


def train_ppm(args, progress: Progress) -> dict:
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    base = args.base
    tok_path = os.path.join(base, "tokenizer.json")
    has_weights = os.path.isfile(os.path.join(base, "checkpoint.pt")) or (
        os.path.isfile(os.path.join(base, "model.gguf")) and os.path.isfile(os.path.join(base, "config.json")))
    if not os.path.isfile(tok_path) or not has_weights:
        raise InputProblem(f"--base {base}: needs tokenizer.json and checkpoint.pt (or model.gguf + config.json), as `rstar train sft` writes")
    tok = Tokenizer.load(tok_path)
    model = load_model_dir(base)
    pairs = read_pairs(args.pairs, tok, args.max_len, progress)
    split = "problem"
    if args.test_pairs:
        test = read_pairs(args.test_pairs, tok, args.max_len, progress)
        train = pairs
        split = "given"
    elif len(pairs) >= 10:
        # Held-out pairs come from problems never seen in training: whole problems (and so every tree of them) go to
        # one side. The official trainer splits 5% of the pairs at random, which puts siblings of training pairs in
        # the test set and overstates accuracy.
        train_idx, test_idx = split_by_problem([p[3] for p in pairs], args.test_fraction, args.seed)
        train, test = [pairs[i] for i in train_idx], [pairs[i] for i in test_idx]
    else:  # too few pairs to hold any out
        train, test = pairs, []
        split = "none"
    train_problems = {p[3] for p in train}
    test_problems = {p[3] for p in test}
    shared = len(train_problems & test_problems)
    if shared:
        progress.emit("warning", message=f"{shared} of {len(test_problems)} held-out problems also have training pairs: held-out accuracy is not problem-disjoint")
    head = ValueHead(model.cfg.dim)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW([
        {"params": list(model.parameters()), "lr": args.lr},
        {"params": list(head.parameters()), "lr": args.head_lr or args.lr},
    ], betas=(0.9, 0.95), weight_decay=args.weight_decay)
    groups = build_groups(train, args.max_len)
    # Each epoch's order is shuffled before training starts (the rng is used in the same sequence as the loop would),
    # and the step count is taken from those shuffled batches: a shuffled epoch packs into a different number of
    # batches than the file order, so counting the file order ran `--epochs 1` a few percent past one epoch.
    def shuffled_epoch() -> list:
        order = list(range(len(groups)))
        rng.shuffle(order)
        return batches_of(groups, order, args.batch, args.batch_tokens)
    planned = [shuffled_epoch() for _ in range(max(1, math.ceil(args.epochs)))] if not args.max_steps else []
    steps_per_epoch = len(planned[0]) if planned else len(batches_of(groups, range(len(groups)), args.batch, args.batch_tokens))
    if args.max_steps:
        total_steps = args.max_steps
    else:
        whole = int(args.epochs)
        total_steps = sum(len(b) for b in planned[:whole]) + (int(len(planned[whole]) * (args.epochs - whole)) if whole < len(planned) else 0)
        total_steps = max(1, total_steps)
    progress.emit("start", kind="ppm", params=model.num_params() + sum(p.numel() for p in head.parameters()), train_pairs=len(train),
                  test_pairs=len(test), train_problems=len(train_problems), test_problems=len(test_problems), split=split,
                  steps=total_steps, steps_per_epoch=steps_per_epoch)
    initial = eval_ppm(model, head, test, args.batch, args.max_len, args.batch_tokens) if test else None
    if initial:
        progress.emit("eval", step=0, epoch=0, accuracy=initial["accuracy"], eval_loss=round(initial["loss"], 4))
    step, epoch = 0, 0
    history = []
    t_start = time.time()
    first_loss = None
    seen = 0
    while step < total_steps:
        epoch += 1
        for chunk in (planned.pop(0) if planned else shuffled_epoch()):
            if step >= total_steps:
                break
            lr_scale = lr_at(step, total_steps, 1.0, args.warmup)
            opt.param_groups[0]["lr"] = args.lr * lr_scale
            opt.param_groups[1]["lr"] = (args.head_lr or args.lr) * lr_scale
            # Each distinct text of a problem is scored once (ppm_groups); the loss is the official RMTrainer's:
            # the sum over the batch's pairs of -log sigmoid(r_pos - r_neg) * factor.
            pos, neg, factor = group_values(model, head, chunk)
            loss = (-F.logsigmoid(pos - neg) * factor).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            seen += len(pos)
            value = float(loss)
            first_loss = value if first_loss is None else first_loss
            if step % args.log_every == 0 or step == total_steps or step == 1:
                progress.emit("step", step=step, steps=total_steps, epoch=epoch, loss=round(value, 4),
                              pairs_per_s=round(seen / max(time.time() - t_start, 1e-9), 1))
                history.append({"step": step, "loss": round(value, 4)})
        if test:
            ev = eval_ppm(model, head, test, args.batch, args.max_len, args.batch_tokens)
            progress.emit("eval", step=step, epoch=epoch, accuracy=ev["accuracy"], eval_loss=round(ev["loss"], 4))
            history.append({"step": step, "epoch": epoch, "accuracy": ev["accuracy"]})
    metrics: dict = {"first_loss": first_loss, "steps": step, "train_seconds": round(time.time() - t_start, 1),
                     "split": split, "train_pairs": len(train), "train_problems": len(train_problems),
                     "pairs_trained": seen, "pairs_per_epoch": sum(len(g.pairs) for g in groups)}
    if test:
        final = eval_ppm(model, head, test, args.batch, args.max_len, args.batch_tokens)
        metrics.update({"initial_accuracy": initial["accuracy"] if initial else None, "accuracy": final["accuracy"], "eval_loss": final["loss"],
                        "test_pairs": final["pairs"], "test_problems": len(test_problems), "test_problems_in_training": shared,
                        "heldout": heldout_of(test, final), "heldout_initial": heldout_of(test, initial) if initial else None})
    files = save_policy(model, tok, args.out, f16=not args.f32, name=args.name)
    files.update(save_value_head(head, args.out, model.cfg.dim))
    torch.save({"config": model.cfg.to_json(), "state_dict": model.state_dict(), "v_head": head.state_dict()}, files["checkpoint"])
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({**metrics, "history": history}, f, indent=2)
    files["metrics"] = os.path.join(args.out, "metrics.json")
    return {"files": files, "metrics": metrics}


def load_tokenizer(directory: str, tokenizer: Optional[str] = None) -> Tokenizer:
    """--tokenizer, else DIR/tokenizer.json, else the merges stored in DIR/model.gguf (a shipped PPM directory has
    no tokenizer.json: llama.cpp reads the GGUF's own)."""
    path = tokenizer or os.path.join(directory, "tokenizer.json")
    if os.path.isfile(path):
        return Tokenizer.load(path)
    if tokenizer:
        raise InputProblem(f"--tokenizer {tokenizer}: no such file")
    from gguf_writer import read_gguf

    gguf = os.path.join(directory, "model.gguf")
    if not os.path.isfile(gguf):
        raise InputProblem(f"{directory}: needs tokenizer.json or model.gguf")
    meta, _ = read_gguf(gguf)
    tok = Tokenizer([tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]])  # type: ignore[misc]
    if tok.tokens != list(meta["tokenizer.ggml.tokens"]):
        raise InputProblem(f"{gguf}: its vocabulary is not an rstar-bpe-v1 tokenizer's; pass --tokenizer")
    return tok


def load_value_head(directory: str, dim: int) -> ValueHead:
    path = os.path.join(directory, "value_head.safetensors")
    if not os.path.isfile(path):
        raise InputProblem(f"{directory}: no value_head.safetensors (a PPM directory written by `rstar train ppm`)")
    tensors = load_safetensors(path)
    weight, bias = tensors.get("v_head.weight"), tensors.get("v_head.bias")
    if weight is None or bias is None or weight.size != dim:
        raise InputProblem(f"{path}: needs v_head.weight [1, {dim}] and v_head.bias [1] for a backbone of hidden size {dim}")
    head = ValueHead(dim)
    with torch.no_grad():
        head.summary.weight.copy_(torch.from_numpy(weight.astype(np.float32).reshape(1, dim)))
        head.summary.bias.copy_(torch.from_numpy(bias.astype(np.float32).reshape(1)))
    return head


def evaluate_ppm(args, progress: Progress) -> dict:
    """Scores every pair of --pairs with a trained PPM directory (backbone + value head, as search runs it) and
    reports pairwise accuracy overall and by kind with sample sizes and 95% intervals. Nothing is trained."""
    set_threads(args.threads)
    directory = args.model
    has_weights = os.path.isfile(os.path.join(directory, "checkpoint.pt")) or (
        os.path.isfile(os.path.join(directory, "model.gguf")) and os.path.isfile(os.path.join(directory, "config.json")))
    if not has_weights:
        raise InputProblem(f"--model {directory}: needs checkpoint.pt, or model.gguf + config.json, and value_head.safetensors")
    tok = load_tokenizer(directory, args.tokenizer)
    model = load_model_dir(directory)
    head = load_value_head(directory, model.cfg.dim)
    pairs = read_pairs(args.pairs, tok, args.max_len, progress)
    problems = {p[3] for p in pairs}
    progress.emit("start", kind="ppm-eval", params=model.num_params() + model.cfg.dim + 1, test_pairs=len(pairs), test_problems=len(problems))
    t0 = time.time()
    ev = eval_ppm(model, head, pairs, args.batch, args.max_len)
    metrics: dict = {"split": "given", "accuracy": ev["accuracy"], "eval_loss": ev["loss"], "test_pairs": len(pairs),
                     "test_problems": len(problems), "heldout": heldout_of(pairs, ev), "eval_seconds": round(time.time() - t0, 1)}
    if args.train_pairs:
        seen = {problem_of(str(r["prompt"])) for r in read_jsonl(args.train_pairs, ["prompt"])[0]}
        shared = len(problems & seen)
        metrics["test_problems_in_training"] = shared
        if shared:
            progress.emit("warning", message=f"{shared} of {len(problems)} evaluated problems also have pairs in {args.train_pairs}: not problem-disjoint")
    progress.emit("eval", step=0, epoch=0, accuracy=ev["accuracy"], eval_loss=round(float(ev["loss"]), 4))
    files: Dict[str, str] = {}
    if args.scores:
        os.makedirs(os.path.dirname(os.path.abspath(args.scores)), exist_ok=True)
        with open(args.scores, "w", encoding="utf-8") as f:
            for (pos, neg), pair in zip(ev["raw"], pairs):  # type: ignore[arg-type]
                f.write(json.dumps({"pos_score": math.tanh(pos / SCORE_SCALE), "neg_score": math.tanh(neg / SCORE_SCALE), "kind": pair[4]}) + "\n")
        files["scores"] = args.scores
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(metrics, f, indent=2)
        files["metrics"] = args.out
    return {"files": files, "metrics": metrics}


def save_value_head(head: ValueHead, out: str, dim: int) -> Dict[str, str]:
    weights = os.path.join(out, "value_head.safetensors")
    manifest = os.path.join(out, "value_head.json")
    save_safetensors(weights, {
        "v_head.weight": head.summary.weight.detach().float().numpy().reshape(1, dim),
        "v_head.bias": head.summary.bias.detach().float().numpy().reshape(1),
    }, {"format": "rstar-value-head-v1"})
    with open(manifest, "w") as f:
        json.dump({
            "format": "rstar-value-head-v1",
            "weights": "value_head.safetensors",
            "tensors": {"weight": "v_head.weight", "bias": "v_head.bias"},
            "hidden_size": dim,
            "score_scale": SCORE_SCALE,
            "score": "tanh((dot(v_head.weight[0], h) + v_head.bias[0]) / score_scale)",
            "input": "h = last-token hidden state after output_norm (llama.cpp embedding, pooling NONE) of [BOS] + tokenize(prompt + step, special=true)",
            "base_model": "model.gguf",
        }, f, indent=2)
    return {"value_head": weights, "value_head_manifest": manifest}


# ---------------------------------------------------------------- CLI
def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="trainer.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--out", required=True)
        p.add_argument("--epochs", type=float, default=1.0)
        p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (overrides --epochs)")
        p.add_argument("--warmup", type=int, default=20)
        p.add_argument("--weight-decay", type=float, default=0.01)
        p.add_argument("--max-len", type=int, default=768)
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--log-every", type=int, default=10)
        p.add_argument("--f32", action="store_true", help="write F32 matrices (parity tests); default F16")
        p.add_argument("--name", default="rstar-tiny")
        p.add_argument("--quiet", action="store_true")

    s = sub.add_parser("sft", help="policy SFT on {query, response} records")
    common(s)
    s.add_argument("--data", required=True)
    s.add_argument("--tokenizer", help="tokenizer.json to reuse (default: train one on the data)")
    s.add_argument("--merges", type=int, default=1024)
    s.add_argument("--init", help="continue from a model directory or checkpoint.pt")
    s.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    s.add_argument("--dim", type=int)
    s.add_argument("--n-layers", type=int)
    s.add_argument("--n-heads", type=int)
    s.add_argument("--ffn-dim", type=int)
    s.add_argument("--context-length", type=int, default=1024)
    s.add_argument("--lr", type=float, default=3e-3)
    s.add_argument("--batch-tokens", type=int, default=4096)
    s.add_argument("--max-batch", type=int, default=32)
    s.add_argument("--eval-records", type=int, default=200)
    s.add_argument("--eval-every", type=int, default=0)
    s.add_argument("--solve-data", help="problems {question, answer} for a greedy solve-rate check after training")
    s.add_argument("--solve-count", type=int, default=0)

    p = sub.add_parser("ppm", help="process preference model on {prompt, pos, neg, pos_count, neg_count} pairs")
    common(p)
    p.add_argument("--pairs", required=True)
    p.add_argument("--base", required=True, help="policy directory (checkpoint.pt + tokenizer.json)")
    p.add_argument("--test-pairs")
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--head-lr", type=float, default=0.0, help="value head learning rate (default --lr)")
    p.add_argument("--batch", type=int, default=16, help="pairs per optimizer step (whole problems: a step takes problems until it has this many)")
    p.add_argument("--batch-tokens", type=int, default=16384, help="most padded tokens in one forward pass")

    e = sub.add_parser("eval-ppm", help="pairwise accuracy of a trained PPM directory on pairs, overall and by kind (no training)")
    e.add_argument("--model", required=True, help="PPM directory: model.gguf + config.json (or checkpoint.pt) and value_head.safetensors")
    e.add_argument("--pairs", required=True, help="{prompt, pos, neg} pairs to score (from problems the PPM never saw)")
    e.add_argument("--train-pairs", help="the PPM's training pairs: count evaluated problems that also appear there")
    e.add_argument("--tokenizer", help="tokenizer.json (default: the directory's, else the GGUF's vocabulary)")
    e.add_argument("--out", default=None, help="write the metrics JSON here")
    e.add_argument("--scores", default=None, help="write each pair's scores here (JSONL {pos_score, neg_score, kind}, score = tanh(head / 5))")
    e.add_argument("--batch", type=int, default=16)
    e.add_argument("--max-len", type=int, default=768)
    e.add_argument("--threads", type=int, default=1)
    e.add_argument("--quiet", action="store_true")

    v = sub.add_parser("solve", help="greedy solve rate of a policy directory on problems {question, answer}")
    v.add_argument("--model", required=True, help="directory with checkpoint.pt and tokenizer.json")
    v.add_argument("--data", required=True)
    v.add_argument("--count", type=int, default=50)
    v.add_argument("--out", default=None)
    v.add_argument("--threads", type=int, default=1)
    v.add_argument("--quiet", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "solve":
        set_threads(args.threads)
        progress = Progress(quiet=args.quiet)
        model = load_model_dir(args.model)
        tok = Tokenizer.load(os.path.join(args.model, "tokenizer.json"))
        problems, _ = read_jsonl(args.data, ["answer"])
        t0 = time.time()
        result = solve_rate(model, tok, problems[: args.count])
        progress.emit("done", metrics={**result, "seconds": round(time.time() - t0, 1)})
        return 0
    progress = Progress(quiet=args.quiet, log_path=None)
    try:
        if args.command == "eval-ppm":
            result = evaluate_ppm(args, progress)
        else:
            os.makedirs(args.out, exist_ok=True)
            progress.log = open(os.path.join(args.out, "train-log.jsonl"), "w", encoding="utf-8")
            result = train_sft(args, progress) if args.command == "sft" else train_ppm(args, progress)
        progress.emit("done", **result)
        return 0
    except InputProblem as e:
        progress.emit("error", kind="input", message=str(e))
        return 2
    except Interrupted as e:
        progress.emit("error", kind="interrupted", message="interrupted; the model trained so far was saved", files=e.files)
        return 130
    except KeyboardInterrupt:
        progress.emit("error", kind="interrupted", message="interrupted")
        return 130
    except Exception as e:  # noqa: BLE001
        progress.emit("error", kind="internal", message=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
        return 70


if __name__ == "__main__":
    sys.exit(main())
