"""Writes a llama-architecture GGUF (v3) that llama.cpp / node-llama-cpp load as is. numpy + struct only.

Layout: "GGUF", u32 version, u64 n_tensors, u64 n_kv, key/values, tensor infos (name, u32 n_dims, u64 dims with the
numpy shape reversed, u32 type, u64 offset), padding to 32, tensor data (each 32-aligned).
Ints in metadata are UINT32, floats FLOAT32 (the loader rejects other types for these keys).
"""
from __future__ import annotations

import struct
from typing import Dict, List, Tuple

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32
# metadata value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = range(10)
# tensor types
GGML_F32, GGML_F16 = 0, 1


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(kind: int, value) -> bytes:
    if kind == T_UINT32:
        return struct.pack("<I", value)
    if kind == T_INT32:
        return struct.pack("<i", value)
    if kind == T_FLOAT32:
        return struct.pack("<f", value)
    if kind == T_BOOL:
        return struct.pack("<?", bool(value))
    if kind == T_STRING:
        return _str(value)
    raise ValueError(kind)


def _kv(key: str, kind: int, value, item_kind: int = -1) -> bytes:
    out = _str(key) + struct.pack("<I", kind)
    if kind == T_ARRAY:
        out += struct.pack("<IQ", item_kind, len(value))
        if item_kind == T_INT32:
            out += np.asarray(value, dtype="<i4").tobytes()
        else:
            out += b"".join(_value(item_kind, v) for v in value)
        return out
    return out + _value(kind, value)


def llama_tensors(state: Dict[str, "np.ndarray"], n_layers: int) -> List[Tuple[str, np.ndarray]]:
    """Maps our PyTorch state dict (as numpy) to llama.cpp tensor names. Tied embedding: no output.weight."""
    out = [("token_embd.weight", state["embed.weight"]), ("output_norm.weight", state["norm.weight"])]
    names = [
        ("attn_norm.weight", "attn_norm.weight"),
        ("attn_q.weight", "attn.wq.weight"),
        ("attn_k.weight", "attn.wk.weight"),
        ("attn_v.weight", "attn.wv.weight"),
        ("attn_output.weight", "attn.wo.weight"),
        ("ffn_norm.weight", "ffn_norm.weight"),
        ("ffn_gate.weight", "ffn.gate.weight"),
        ("ffn_up.weight", "ffn.up.weight"),
        ("ffn_down.weight", "ffn.down.weight"),
    ]
    for i in range(n_layers):
        for gguf_name, ours in names:
            out.append((f"blk.{i}.{gguf_name}", state[f"layers.{i}.{ours}"]))
    return out


def write_gguf(path: str, model, tokenizer, name: str = "rstar-tiny", f16: bool = False) -> int:
    """Writes `model` (rstar_model.Llama) with `tokenizer` (rstar_tokenizer.Tokenizer). Returns the file size."""
    cfg = model.cfg
    state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    tensors = llama_tensors(state, cfg.n_layers)
    kvs = [
        _kv("general.architecture", T_STRING, "llama"),
        _kv("general.name", T_STRING, name),
        _kv("general.file_type", T_UINT32, 1 if f16 else 0),
        _kv("llama.vocab_size", T_UINT32, tokenizer.vocab_size),
        _kv("llama.context_length", T_UINT32, cfg.context_length),
        _kv("llama.embedding_length", T_UINT32, cfg.dim),
        _kv("llama.block_count", T_UINT32, cfg.n_layers),
        _kv("llama.feed_forward_length", T_UINT32, cfg.ffn_dim),
        _kv("llama.attention.head_count", T_UINT32, cfg.n_heads),
        _kv("llama.attention.head_count_kv", T_UINT32, cfg.n_kv_heads),
        _kv("llama.rope.dimension_count", T_UINT32, cfg.head_dim),
        _kv("llama.rope.freq_base", T_FLOAT32, float(cfg.rope_base)),
        _kv("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, float(cfg.norm_eps)),
        _kv("tokenizer.ggml.model", T_STRING, "gpt2"),
        _kv("tokenizer.ggml.pre", T_STRING, "gpt-2"),
        _kv("tokenizer.ggml.tokens", T_ARRAY, tokenizer.tokens, T_STRING),
        _kv("tokenizer.ggml.token_type", T_ARRAY, tokenizer.token_types, T_INT32),
        _kv("tokenizer.ggml.merges", T_ARRAY, [f"{a} {b}" for a, b in tokenizer.merges], T_STRING),
        _kv("tokenizer.ggml.bos_token_id", T_UINT32, 0),
        _kv("tokenizer.ggml.eos_token_id", T_UINT32, 1),
        _kv("tokenizer.ggml.padding_token_id", T_UINT32, 2),
        _kv("tokenizer.ggml.add_bos_token", T_BOOL, True),
        _kv("tokenizer.ggml.add_eos_token", T_BOOL, False),
    ]
    infos = b""
    blobs: List[bytes] = []
    offset = 0
    for tname, arr in tensors:
        as_f16 = f16 and arr.ndim > 1  # norms stay F32
        data = np.ascontiguousarray(arr, dtype="<f2" if as_f16 else "<f4").tobytes()
        infos += _str(tname) + struct.pack("<I", arr.ndim) + b"".join(struct.pack("<Q", d) for d in reversed(arr.shape))
        infos += struct.pack("<IQ", GGML_F16 if as_f16 else GGML_F32, offset)
        pad = (-len(data)) % ALIGNMENT
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    header = GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(kvs)) + b"".join(kvs) + infos
    header += b"\0" * ((-len(header)) % ALIGNMENT)
    with open(path, "wb") as f:
        f.write(header)
        for b in blobs:
            f.write(b)
    return len(header) + offset


# ---------------------------------------------------------------- reading (our own files back into PyTorch)
_SCALAR = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?",
           10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path: str):
    """Returns (metadata dict, {tensor name: float32 numpy array in torch layout}) of an F32/F16 GGUF."""
    with open(path, "rb") as f:
        blob = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        (v,) = struct.unpack_from(fmt, blob, pos)
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("<Q")
        s = blob[pos : pos + n].decode("utf-8")
        pos += n
        return s

    def value(kind):
        if kind == T_STRING:
            return string()
        if kind == T_ARRAY:
            item, count = take("<I"), take("<Q")
            return [value(item) for _ in range(count)]
        return take(_SCALAR[kind])

    if blob[:4] != GGUF_MAGIC:
        raise ValueError(f"{path}: not a GGUF file")
    pos = 4
    take("<I")
    n_tensors, n_kv = take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("<Q") for _ in range(take("<I"))]
        infos.append((name, dims, take("<I"), take("<Q")))
    base = pos + ((-pos) % ALIGNMENT)
    tensors = {}
    for name, dims, kind, offset in infos:
        if kind not in (GGML_F32, GGML_F16):
            raise ValueError(f"{path}: tensor {name} has type {kind}; only F32/F16 files are read")
        shape = list(reversed(dims))
        count = int(np.prod(shape))
        dtype = "<f4" if kind == GGML_F32 else "<f2"
        tensors[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=base + offset).astype(np.float32).reshape(shape)
    return meta, tensors


def with_metadata(src: str, dst: str, strings: Dict[str, str]) -> int:
    """Copies the GGUF `src` to `dst` with string metadata added (or replaced), e.g. {"tokenizer.chat_template": ...}.

    The tensor infos and data are copied byte for byte (their offsets are relative to the data section); only the
    key/value section and the padding before the data change. Returns the new file size.
    """
    with open(src, "rb") as f:
        blob = f.read()
    if blob[:4] != GGUF_MAGIC:
        raise ValueError(f"{src}: not a GGUF file")
    pos = 4

    def take(fmt):
        nonlocal pos
        (v,) = struct.unpack_from(fmt, blob, pos)
        pos += struct.calcsize(fmt)
        return v

    def skip_value(kind):
        nonlocal pos
        if kind == T_STRING:
            length = take("<Q")
            pos += length
        elif kind == T_ARRAY:
            item, count = take("<I"), take("<Q")
            for _ in range(count):
                skip_value(item)
        else:
            pos += struct.calcsize(_SCALAR[kind])

    version = take("<I")
    n_tensors, n_kv = take("<Q"), take("<Q")
    kept = []
    for _ in range(n_kv):
        start = pos
        key = blob[pos + 8 : pos + 8 + struct.unpack_from("<Q", blob, pos)[0]].decode("utf-8")
        pos += 8 + len(key.encode("utf-8"))
        skip_value(take("<I"))
        if key not in strings:
            kept.append(blob[start:pos])
    infos_start = pos
    for _ in range(n_tensors):
        pos += 8 + struct.unpack_from("<Q", blob, pos)[0]
        n_dims = take("<I")
        pos += 8 * n_dims + 4 + 8
    infos = blob[infos_start:pos]
    data = blob[pos + ((-pos) % ALIGNMENT) :]
    kvs = kept + [_kv(key, T_STRING, value) for key, value in strings.items()]
    header = GGUF_MAGIC + struct.pack("<IQQ", version, n_tensors, len(kvs)) + b"".join(kvs) + infos
    header += b"\0" * ((-len(header)) % ALIGNMENT)
    with open(dst, "wb") as f:
        f.write(header)
        f.write(data)
    return len(header) + len(data)


def state_from_gguf(tensors, n_layers: int):
    """Inverse of llama_tensors: our PyTorch state-dict names."""
    state = {"embed.weight": tensors["token_embd.weight"], "norm.weight": tensors["output_norm.weight"]}
    names = {"attn_norm.weight": "attn_norm.weight", "attn_q.weight": "attn.wq.weight", "attn_k.weight": "attn.wk.weight",
             "attn_v.weight": "attn.wv.weight", "attn_output.weight": "attn.wo.weight", "ffn_norm.weight": "ffn_norm.weight",
             "ffn_gate.weight": "ffn.gate.weight", "ffn_up.weight": "ffn.up.weight", "ffn_down.weight": "ffn.down.weight"}
    for i in range(n_layers):
        for gguf_name, ours in names.items():
            state[f"layers.{i}.{ours}"] = tensors[f"blk.{i}.{gguf_name}"]
    return state


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="copy a GGUF with string metadata added: --set KEY=VALUE, or --set-file KEY=FILE")
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--set-file", action="append", default=[], metavar="KEY=FILE")
    args = ap.parse_args()
    values: Dict[str, str] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        values[key] = value
    for item in args.set_file:
        key, _, file = item.partition("=")
        with open(file, encoding="utf-8") as f:
            values[key] = f.read()
    size = with_metadata(args.src, args.dst, values)
    print(json.dumps({"out": args.dst, "bytes": size, "set": sorted(values)}))
