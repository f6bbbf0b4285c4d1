"""A llama-architecture decoder in PyTorch (1.13, CPU) that llama.cpp runs as is once written to GGUF.

RMSNorm, RoPE on adjacent pairs (llama.cpp's LLAMA_ROPE_TYPE_NORM: x[2i], x[2i+1] rotated by pos * base^(-2i/hd),
so Q/K are exported without any permutation), SwiGLU FFN `down(silu(gate(x)) * up(x))`, tied input/output embedding,
causal attention written by hand (torch 1.13 has no scaled_dot_product_attention), no biases.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int
    dim: int = 128
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int = 4
    ffn_dim: int = 384
    context_length: int = 1024
    rope_base: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> "ModelConfig":
        fields = {k: data[k] for k in ModelConfig.__dataclass_fields__ if k in data}
        return ModelConfig(**fields)


# Named presets (measured in docs/training.md).
PRESETS = {
    "test": dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=4, ffn_dim=192),
    "tiny": dict(dim=128, n_layers=4, n_heads=4, n_kv_heads=4, ffn_dim=384),
    "small": dict(dim=192, n_layers=6, n_heads=6, n_kv_heads=6, ffn_dim=512),
    "base": dict(dim=256, n_layers=8, n_heads=8, n_kv_heads=8, ffn_dim=704),
}


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq_len: int, head_dim: int, base: float, offset: int = 0):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    pos = torch.arange(offset, offset + seq_len, dtype=torch.float64)
    ang = torch.outer(pos, inv)
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, H, T, hd); rotates adjacent pairs (NORM rope)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * hd, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.wo = nn.Linear(cfg.n_heads * hd, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask, cache: Optional[list] = None):
        B, T, _ = x.shape
        hd, H, KV = self.cfg.head_dim, self.cfg.n_heads, self.cfg.n_kv_heads
        q = self.wq(x).view(B, T, H, hd).transpose(1, 2)
        k = self.wk(x).view(B, T, KV, hd).transpose(1, 2)
        v = self.wv(x).view(B, T, KV, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:  # [k, v] of earlier positions, extended in place
            if cache:
                k = torch.cat((cache[0], k), dim=2)
                v = torch.cat((cache[1], v), dim=2)
            cache[:] = [k, v]
        if KV != H:
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att + mask
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        return self.wo(y)


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.up = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.down = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = FeedForward(cfg)

    def forward(self, x, cos, sin, mask, cache: Optional[list] = None):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache)
        return x + self.ffn(self.ffn_norm(x))


class Llama(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.apply(self._init)
        for layer in self.layers:  # scaled init of residual projections
            nn.init.normal_(layer.attn.wo.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(layer.ffn.down.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def hidden(self, ids: torch.Tensor, attention_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Final hidden states after the output norm, (B, T, dim). `attention_bias` (B, 1, 1, T) masks padding keys."""
        B, T = ids.shape
        cos, sin = rope_tables(T, self.cfg.head_dim, self.cfg.rope_base)
        mask = torch.full((T, T), float("-inf")).triu(1)
        if attention_bias is not None:
            mask = mask + attention_bias
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.hidden(ids) @ self.embed.weight.t()

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def step_logits(self, ids: List[int], caches: List[list], offset: int) -> torch.Tensor:
        """Logits of the last of `ids` (positions offset..), extending the per-layer KV caches."""
        T = len(ids)
        cos, sin = rope_tables(T, self.cfg.head_dim, self.cfg.rope_base, offset)
        mask = torch.full((T, offset + T), float("-inf")).triu(offset + 1)
        x = self.embed(torch.tensor([ids]))
        for layer, cache in zip(self.layers, caches):
            x = layer(x, cos, sin, mask, cache)
        return (self.norm(x[:, -1]) @ self.embed.weight.t())[0]

    @torch.no_grad()
    def greedy(self, ids: List[int], max_new: int, eos_id: int = 1, stop_ids: Optional[set] = None) -> List[int]:
        """Greedy continuation with a KV cache. Stops after EOS or a stop id (included) or max_new tokens."""
        stops = {eos_id} | (stop_ids or set())
        caches: List[list] = [[] for _ in self.layers]
        logits = self.step_logits(list(ids), caches, 0)
        pos = len(ids)
        out: List[int] = []
        for _ in range(max_new):
            nxt = int(torch.argmax(logits))
            out.append(nxt)
            if nxt in stops or pos >= self.cfg.context_length:
                break
            logits = self.step_logits([nxt], caches, pos)
            pos += 1
        return out


class ValueHead(nn.Module):
    """Linear layer on the last token's final hidden state (after the final norm). score = tanh(output / scale)."""

    def __init__(self, dim: int):
        super().__init__()
        self.summary = nn.Linear(dim, 1)
        nn.init.normal_(self.summary.weight, mean=0.0, std=1e-3)
        nn.init.zeros_(self.summary.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.summary(h).squeeze(-1)


def save_checkpoint(model: Llama, path: str) -> None:
    torch.save({"config": model.cfg.to_json(), "state_dict": model.state_dict()}, path)


def load_checkpoint(path: str) -> Llama:
    data = torch.load(path, map_location="cpu")
    model = Llama(ModelConfig.from_json(data["config"]))
    model.load_state_dict(data["state_dict"])
    return model


def load_model_dir(directory: str) -> Llama:
    """A model directory's checkpoint.pt, or else its model.gguf (F32/F16) with config.json."""
    import os

    ckpt = os.path.join(directory, "checkpoint.pt")
    if os.path.isfile(ckpt):
        return load_checkpoint(ckpt)
    from gguf_writer import read_gguf, state_from_gguf

    with open(os.path.join(directory, "config.json")) as f:
        cfg = ModelConfig.from_json(json.load(f))
    _, tensors = read_gguf(os.path.join(directory, "model.gguf"))
    model = Llama(cfg)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state_from_gguf(tensors, cfg.n_layers).items()})
    return model


def write_config(model: Llama, path: str, extra: Optional[dict] = None) -> None:
    with open(path, "w") as f:
        json.dump({**model.cfg.to_json(), "params": model.num_params(), **(extra or {})}, f, indent=2)
