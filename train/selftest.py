#!/usr/bin/env python3
"""Checks of the Python internals (run by test/train/python.test.ts): prints one JSON object, exit 1 on failure."""
from __future__ import annotations

import json
import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from common import SFT_PROMPT_HEAD, sft_prompt  # noqa: E402
from gguf_writer import read_gguf, state_from_gguf, write_gguf  # noqa: E402
from mini_corpus import corpus  # noqa: E402
from rstar_model import PRESETS, Llama, ModelConfig, apply_rope, rope_tables  # noqa: E402
from rstar_tokenizer import MARKERS, Tokenizer, gpt2_split, train_bpe  # noqa: E402
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402
from ppm_groups import build_groups, group_values  # noqa: E402
from trainer import ppm_factor, ppm_ids, value_of  # noqa: E402
from rstar_model import ValueHead  # noqa: E402

failures = []


def check(name, ok, detail=""):
    if not ok:
        failures.append(f"{name}: {detail}")


texts = [sft_prompt(r["query"]) + r["response"] for r in corpus(120, seed=1)]
tok = train_bpe(texts, 200)
check("deterministic merges", train_bpe(texts, 200).merges == tok.merges)
check("unique token texts", len(set(tok.tokens)) == len(tok.tokens))
rng = random.Random(0)
alphabet = "ab Z9_\n\t\r'<>é😀 .,:;()=+-*/" + "".join(MARKERS)
for _ in range(300):
    s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    check("round trip", tok.decode(tok.encode(s)) == s, repr(s))
check("gpt2 split", gpt2_split("it's  a  test\n\n x1 22") == ["it", "'s", " ", " a", " ", " test", "\n\n", " x", "1", " 22"], str(gpt2_split("it's  a  test\n\n x1 22")))
check("markers are single tokens", [tok.encode(m) for m in MARKERS] == [[3 + i] for i in range(7)])
check("control tokens only with parse_special", tok.encode("<|bos|>") == [0] and len(tok.encode("<|bos|>", parse_special=False)) > 1)
check("sft prompt", sft_prompt("Q") == SFT_PROMPT_HEAD + "Q\n<|assistant|>: Let's think step by step and solve the problem with code.")
check("ppm factor", ppm_factor(2, 2) == 0.25 and ppm_factor(0, 4) == 0.25 and ppm_factor(1, 3) == 1 / 3)

# RoPE rotates adjacent pairs: position 0 is the identity, norms are kept
x = torch.randn(1, 1, 3, 8)
cos, sin = rope_tables(3, 8, 10000.0)
y = apply_rope(x, cos, sin)
check("rope identity at 0", torch.allclose(y[..., 0, :], x[..., 0, :]))
check("rope keeps pair norms", torch.allclose((y[..., 0::2] ** 2 + y[..., 1::2] ** 2), (x[..., 0::2] ** 2 + x[..., 1::2] ** 2), atol=1e-5))

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.safetensors")
    tensors = {"v_head.weight": np.arange(6, dtype=np.float32).reshape(1, 6), "v_head.bias": np.array([0.5], dtype=np.float32)}
    save_safetensors(path, tensors, {"format": "x"})
    back = load_safetensors(path)
    check("safetensors round trip", all(np.array_equal(back[k], v) for k, v in tensors.items()))
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    check("safetensors header", header["v_head.weight"] == {"dtype": "F32", "shape": [1, 6], "data_offsets": [4, 28]} and n % 8 == 0, str(header))

    model = Llama(ModelConfig(vocab_size=tok.vocab_size, **PRESETS["test"]))
    gguf = os.path.join(d, "m.gguf")
    size = write_gguf(gguf, model, tok, f16=True)
    raw = open(gguf, "rb").read()
    check("gguf size", size == len(raw))
    magic, version, n_tensors, n_kv = struct.unpack("<4sIQQ", raw[:24])
    check("gguf header", magic == b"GGUF" and version == 3 and n_tensors == 2 + 9 * model.cfg.n_layers and n_kv == 23, str((magic, version, n_tensors, n_kv)))
    write_gguf(gguf, model, tok, f16=False)
    meta, tensors = read_gguf(gguf)
    state = state_from_gguf(tensors, model.cfg.n_layers)
    check("gguf read back", meta["tokenizer.ggml.merges"] == [f"{a} {b}" for a, b in tok.merges] and meta["llama.block_count"] == model.cfg.n_layers
          and all(np.array_equal(state[k], v.numpy()) for k, v in model.state_dict().items()))

# Grouped PPM scoring (each distinct text of a problem run once) gives the per-pair loss and gradients exactly:
# step pairs whose texts are prefixes of the final-answer pairs' trajectories, a pair sharing one side with another,
# a second problem, and a text long enough to be truncated (not a prefix of anything any more).
torch.manual_seed(0)
ppm_model = Llama(ModelConfig(vocab_size=tok.vocab_size, **PRESETS["test"]))
ppm_head = ValueHead(ppm_model.cfg.dim)
torch.nn.init.normal_(ppm_head.summary.weight, std=0.5)  # a head that separates values, so gradients are not tiny
sols = [r["response"] for r in corpus(4, seed=3)]
steps = [sol.split("<end_of_step>") for sol in sols]
q0, q1 = sft_prompt("Q zero"), sft_prompt("Q one")
traj = lambda k, n: "<end_of_step>".join(steps[k][:n]) + "<end_of_step>"  # noqa: E731
raw_pairs = [
    (q0, traj(0, 1), traj(1, 1), 0.5),
    (q0 + traj(0, 1), traj(0, 2)[len(traj(0, 1)):], traj(1, 2)[len(traj(1, 1)):], 1.0),
    (q0, sols[0], sols[1], 0.25),
    (q0, sols[0], sols[2], 0.25),
    (q1, sols[2], sols[3], 1.0),
    (q1, sols[3] * 3, sols[2], 1.0),
]
MAXLEN = 200
tuples = [(ppm_ids(tok, pr, a, MAXLEN), ppm_ids(tok, pr, b, MAXLEN), f, pr[:9], "k") for pr, a, b, f in raw_pairs]
check("grouped scoring: a truncated text", any(len(t[0]) == MAXLEN for t in tuples))
groups = build_groups(tuples, MAXLEN)
check("grouped scoring: shares prefixes", sum(len(g.seqs) for g in groups) < 2 * len(tuples), str([len(g.seqs) for g in groups]))


def _loss_and_grads(fn):
    ppm_model.zero_grad()
    ppm_head.zero_grad()
    pos, neg, factor = fn()
    loss = (-torch.nn.functional.logsigmoid(pos - neg) * factor).sum()
    loss.backward()
    return float(loss), [p.grad.clone() for p in list(ppm_model.parameters()) + list(ppm_head.parameters())]


def _per_pair():
    values = value_of(ppm_model, ppm_head, [t[0] for t in tuples] + [t[1] for t in tuples])
    return values[: len(tuples)], values[len(tuples):], torch.tensor([t[2] for t in tuples])


def _grouped():
    pos, neg, factor = group_values(ppm_model, ppm_head, groups)
    order = [i for g in groups for i in g.indices]
    inv = sorted(range(len(order)), key=lambda k: order[k])
    return pos[inv], neg[inv], factor[inv]


loss_a, grads_a = _loss_and_grads(_per_pair)
loss_b, grads_b = _loss_and_grads(_grouped)
check("grouped scoring: same loss", abs(loss_a - loss_b) < 1e-4 * max(1.0, abs(loss_a)), f"{loss_a} vs {loss_b}")
check("grouped scoring: same gradients", all(torch.allclose(a, b, atol=1e-5, rtol=1e-3) for a, b in zip(grads_a, grads_b)))

print(json.dumps({"ok": not failures, "failures": failures, "vocab_size": tok.vocab_size}))
sys.exit(1 if failures else 0)
