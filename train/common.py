"""Shared pieces of the trainers: the SFT prompt, JSONL input, progress events, batching, LR schedule."""
from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import torch

from rstar_tokenizer import EOS_ID, PAD_ID, BOS_ID, Tokenizer

SFT_PROMPT_HEAD = "<|user|>:\n"
SFT_PROMPT_TAIL = "\n<|assistant|>: Let's think step by step and solve the problem with code."


def sft_prompt(question: str, partial: str = "") -> str:
    """Byte-identical to sftPrompt in src/steps/prompts.ts (the official train_SFT.py template)."""
    return f"{SFT_PROMPT_HEAD}{question}{SFT_PROMPT_TAIL}{partial}"


class InputProblem(Exception):
    """Bad input (file, line, field): the TS driver maps it to exit code 2."""


def read_jsonl(path: str, required: Sequence[str]) -> Tuple[List[dict], List[str]]:
    """Records with the required fields; malformed lines are returned as messages `FILE:LINE: problem`."""
    if not os.path.isfile(path):
        raise InputProblem(f"{path}: no such file")
    records: List[dict] = []
    issues: List[str] = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array (the official scripts' output) is accepted too
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputProblem(f"{path}: not valid JSON ({e})")
        lines: Iterable[Tuple[int, object]] = ((i + 1, item) for i, item in enumerate(items))
    else:
        parsed = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                parsed.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                issues.append(f"{path}:{n}: not JSON ({e.msg})")
        lines = parsed
    for n, item in lines:
        if not isinstance(item, dict):
            issues.append(f"{path}:{n}: not an object")
            continue
        missing = [k for k in required if k not in item]
        if missing:
            issues.append(f"{path}:{n}: missing field {missing[0]}")
            continue
        records.append(item)
    return records, issues


class Progress:
    """JSON lines on stdout, one event each (the TS driver turns them into a progress display)."""

    def __init__(self, quiet: bool = False, log_path: Optional[str] = None):
        self.quiet = quiet
        self.start = time.time()
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def emit(self, event: str, **fields) -> None:
        rec = {"event": event, "elapsed_s": round(time.time() - self.start, 2), **fields}
        line = json.dumps(rec)
        if not self.quiet:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()


def lr_at(step: int, total: int, peak: float, warmup: int, floor: float = 0.1) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def sft_example(tok: Tokenizer, query: str, response: str, max_len: int) -> Optional[Tuple[List[int], int]]:
    """[BOS] + tokens(prompt + response) + [EOS] and where the response starts (loss from there on)."""
    prompt = sft_prompt(query)
    p_ids = tok.encode(prompt)
    full = tok.encode(prompt + response)
    if full[: len(p_ids)] != p_ids:  # the boundary merged across: tokenize the parts separately
        full = p_ids + tok.encode(response)
    ids = [BOS_ID] + full + [EOS_ID]
    if len(ids) > max_len:
        return None
    return ids, 1 + len(p_ids)


def make_batches(lengths: Sequence[int], max_tokens: int, max_batch: int, rng: random.Random) -> List[List[int]]:
    """Groups examples of similar length (less padding) into batches of at most max_tokens padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches: List[List[int]] = []
    cur: List[int] = []
    longest = 0
    for i in order:
        l = lengths[i]
        if cur and (max(longest, l) * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, l)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def pad(seqs: Sequence[Sequence[int]], value: int = PAD_ID) -> torch.Tensor:
    T = max(len(s) for s in seqs)
    return torch.tensor([list(s) + [value] * (T - len(s)) for s in seqs], dtype=torch.long)


def set_threads(n: int) -> None:
    torch.set_num_threads(max(1, n))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
