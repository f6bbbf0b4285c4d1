"""Byte-level BPE tokenizer laid out so llama.cpp's `gpt2` tokenizer (pre-tokenizer `gpt-2`) gives identical ids.

Vocabulary (ids in order):
  0..2    control tokens (GGUF token type 3): <|bos|>, <|endoftext|>, <|pad|>
  3..9    rStar markers, user-defined tokens (type 4), each one token
  10..265 the 256 byte tokens (type 1) in GPT-2 `bytes_to_unicode` form (space is "Ġ", newline is "Ċ")
  266..   merged tokens (type 1), in merge-rank order

Encoding mirrors llama.cpp (src/llama-vocab.cpp, src/unicode.cpp of the release node-llama-cpp 3.21.1 ships):
  1. special tokens are cut out first, longest token text first (user-defined always; control tokens only when
     `parse_special`), as `tokenizer_st_partition` does;
  2. each remaining fragment is split by llama.cpp's hand-written gpt2 splitter, which implements
     `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`;
  3. each word starts as one symbol per *code point* (its UTF-8 bytes in byte-to-unicode form); the adjacent pair
     with the lowest merge rank (leftmost on ties) is merged until none is left;
  4. a final symbol that is not in the vocabulary falls back to one byte token per byte.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

CONTROL_TOKENS = ["<|bos|>", "<|endoftext|>", "<|pad|>"]
MARKERS = ["<end_of_step>", "<code>", "<end_of_code>", "<output>", "<end_of_output>", "<answer>", "<end_of_answer>"]
BOS_ID, EOS_ID, PAD_ID = 0, 1, 2
TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED = 1, 3, 4
FIRST_BYTE_ID = len(CONTROL_TOKENS) + len(MARKERS)

# llama.cpp's unicode_set_whitespace (src/unicode-data.cpp)
_WHITESPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {c: b for b, c in BYTE_ENCODER.items()}


def _byte_encode(text: str) -> str:
    return "".join(BYTE_ENCODER[b] for b in text.encode("utf-8"))


def _flags(ch: Optional[str]) -> Tuple[bool, bool, bool, bool]:
    """(defined, letter, number, whitespace) as llama.cpp's unicode_cpt_flags; out of range is all False."""
    if ch is None:
        return (False, False, False, False)
    cat = unicodedata.category(ch)
    return (True, cat[0] == "L", cat[0] == "N", ord(ch) in _WHITESPACE)


def gpt2_split(text: str) -> List[str]:
    """llama.cpp's unicode_regex_split_custom_gpt2 on one fragment, code point for code point."""
    n = len(text)
    get = lambda pos: text[pos] if 0 <= pos < n else None  # noqa: E731
    out: List[str] = []
    prev = 0
    pos = 0

    def add(end: int) -> int:
        nonlocal prev
        length = end - prev
        if length > 0:
            out.append(text[prev:end])
        prev = end
        return length

    while pos < n:
        cpt = text[pos]
        if cpt == "'" and pos + 1 < n:
            nxt = text[pos + 1]
            if nxt in "stmd":
                pos += add(pos + 2)
                continue
            if pos + 2 < n and (nxt + text[pos + 2]) in ("re", "ve", "ll"):
                pos += add(pos + 3)
                continue
        flags2 = _flags(get(pos + 1)) if cpt == " " else _flags(cpt)
        if flags2[1]:  # ?\p{L}+
            pos += cpt == " "
            while flags2[1]:
                pos += 1
                flags2 = _flags(get(pos))
            add(pos)
            continue
        if flags2[2]:  # ?\p{N}+
            pos += cpt == " "
            while flags2[2]:
                pos += 1
                flags2 = _flags(get(pos))
            add(pos)
            continue
        if flags2[0] and not (flags2[1] or flags2[2] or flags2[3]):  # ?[^\s\p{L}\p{N}]+
            pos += cpt == " "
            while flags2[0] and not (flags2[1] or flags2[2] or flags2[3]):
                pos += 1
                flags2 = _flags(get(pos))
            add(pos)
            continue
        num_ws = 0
        while _flags(get(pos + num_ws))[3]:
            num_ws += 1
        if num_ws > 1 and get(pos + num_ws) is not None:  # \s+(?!\S)
            pos += num_ws - 1
            add(pos)
            continue
        if num_ws > 0:  # \s+
            pos += num_ws
            add(pos)
            continue
        pos += 1
        add(pos)
    return out


class Tokenizer:
    def __init__(self, merges: Sequence[Tuple[str, str]]):
        self.merges: List[Tuple[str, str]] = [tuple(m) for m in merges]  # type: ignore[misc]
        self.tokens: List[str] = list(CONTROL_TOKENS) + list(MARKERS) + [BYTE_ENCODER[b] for b in range(256)]
        self.token_types: List[int] = [TOKEN_TYPE_CONTROL] * len(CONTROL_TOKENS) + [TOKEN_TYPE_USER_DEFINED] * len(MARKERS) + [TOKEN_TYPE_NORMAL] * 256
        self.ranks: Dict[Tuple[str, str], int] = {}
        for rank, (a, b) in enumerate(self.merges):
            self.ranks[(a, b)] = rank
            self.tokens.append(a + b)
            self.token_types.append(TOKEN_TYPE_NORMAL)
        # BPE texts (types 1) map to ids; special texts are matched separately.
        self.text_to_id: Dict[str, int] = {}
        for i, t in enumerate(self.tokens):
            if self.token_types[i] == TOKEN_TYPE_NORMAL and t not in self.text_to_id:
                self.text_to_id[t] = i
        self.special_ids = {t: i for i, t in enumerate(self.tokens[: FIRST_BYTE_ID])}
        self._cache: Dict[str, List[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    # --- encoding ---
    def _partition(self, text: str, parse_special: bool) -> List[object]:
        """Fragments: str (raw text) or int (a special token id). Longest special text first, as llama.cpp."""
        fragments: List[object] = [text]
        specials = [(t, i) for t, i in self.special_ids.items() if parse_special or self.token_types[i] == TOKEN_TYPE_USER_DEFINED]
        specials.sort(key=lambda ti: -len(ti[0]))
        for tok_text, tok_id in specials:
            next_fragments: List[object] = []
            for frag in fragments:
                if not isinstance(frag, str):
                    next_fragments.append(frag)
                    continue
                start = 0
                while True:
                    hit = frag.find(tok_text, start)
                    if hit < 0:
                        break
                    if hit > start:
                        next_fragments.append(frag[start:hit])
                    next_fragments.append(tok_id)
                    start = hit + len(tok_text)
                if start < len(frag):
                    next_fragments.append(frag[start:])
            fragments = next_fragments
        return fragments

    def _bpe_word(self, word: str) -> List[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        symbols = [_byte_encode(ch) for ch in word]
        while len(symbols) > 1:
            best_rank, best_i = None, -1
            for i in range(len(symbols) - 1):
                r = self.ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best_i = r, i
            if best_rank is None:
                break
            symbols[best_i : best_i + 2] = [symbols[best_i] + symbols[best_i + 1]]
        ids: List[int] = []
        for s in symbols:
            tid = self.text_to_id.get(s)
            if tid is not None:
                ids.append(tid)
            else:
                ids.extend(FIRST_BYTE_ID + BYTE_DECODER[c] for c in s)
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str, parse_special: bool = True, add_bos: bool = False) -> List[int]:
        """Token ids as llama.cpp's tokenize(text, add_special=add_bos, parse_special) gives them."""
        ids: List[int] = [BOS_ID] if add_bos else []
        for frag in self._partition(text, parse_special):
            if isinstance(frag, int):
                ids.append(frag)
                continue
            for word in gpt2_split(frag):  # type: ignore[arg-type]
                ids.extend(self._bpe_word(word))
        return ids

    def decode(self, ids: Iterable[int], special: bool = False) -> str:
        """Text of ids; control tokens are dropped unless `special` (as llama.cpp detokenize)."""
        out = bytearray()
        for i in ids:
            t, ty = self.tokens[i], self.token_types[i]
            if ty == TOKEN_TYPE_CONTROL:
                if special:
                    out += t.encode("utf-8")
            elif ty == TOKEN_TYPE_USER_DEFINED:
                out += t.encode("utf-8")
            else:
                out += bytes(BYTE_DECODER[c] for c in t)
        return out.decode("utf-8", errors="replace")

    # --- persistence ---
    def to_json(self) -> dict:
        return {
            "format": "rstar-bpe-v1",
            "model": "gpt2",
            "pre": "gpt-2",
            "bos_token_id": BOS_ID,
            "eos_token_id": EOS_ID,
            "pad_token_id": PAD_ID,
            "control_tokens": CONTROL_TOKENS,
            "markers": MARKERS,
            "merges": [f"{a} {b}" for a, b in self.merges],
            "tokens": self.tokens,
            "token_types": self.token_types,
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=0)

    @staticmethod
    def load(path: str) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") != "rstar-bpe-v1":
            raise ValueError(f"{path}: not an rstar-bpe-v1 tokenizer")
        return Tokenizer([tuple(m.split(" ", 1)) for m in data["merges"]])  # type: ignore[misc]


def train_bpe(texts: Iterable[str], num_merges: int, min_frequency: int = 2) -> Tokenizer:
    """Learns `num_merges` merges on the texts (markers and control tokens excluded, as they are single tokens)."""
    base = Tokenizer([])
    word_counts: Counter = Counter()
    for text in texts:
        for frag in base._partition(text, parse_special=True):
            if isinstance(frag, str):
                word_counts.update(gpt2_split(frag))
    words: List[List[str]] = []
    counts: List[int] = []
    for w, c in word_counts.items():
        syms = [_byte_encode(ch) for ch in w]
        if len(syms) > 1:
            words.append(syms)
            counts.append(c)
    pair_counts: Counter = Counter()
    where: Dict[Tuple[str, str], set] = {}
    for wi, syms in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pair_counts[(a, b)] += counts[wi]
            where.setdefault((a, b), set()).add(wi)
    merges: List[Tuple[str, str]] = []
    known = set(base.tokens)
    while len(merges) < num_merges:
        if not pair_counts:
            break
        # deterministic: highest count, then lexicographically smallest pair
        best, best_count = None, 0
        for pair, c in pair_counts.items():
            if c > best_count or (c == best_count and best is not None and pair < best):
                best, best_count = pair, c
        if best is None or best_count < min_frequency:
            break
        a, b = best
        merged = a + b
        if merged in known:  # another merge path already made this text: keep token texts unique
            del pair_counts[best]
            continue
        known.add(merged)
        merges.append(best)
        for wi in list(where.get(best, ())):
            syms = words[wi]
            c = counts[wi]
            for p in zip(syms, syms[1:]):
                pair_counts[p] -= c
                if pair_counts[p] <= 0:
                    del pair_counts[p]
            new: List[str] = []
            i = 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    new.append(merged)
                    i += 2
                else:
                    new.append(syms[i])
                    i += 1
            words[wi] = new
            for p in zip(new, new[1:]):
                pair_counts[p] += c
                where.setdefault(p, set()).add(wi)
        where.pop(best, None)
    return Tokenizer(merges)
