"""Score each distinct text of a problem once for the pairwise (Bradley-Terry) PPM loss.

A pair is (prompt + pos, prompt + neg). Pairs of one problem share long prefixes: every step pair's texts are prefixes of
the trajectories the paper-style final-answer pairs hold whole. The model is causal, so the value of a text is the
value head on the hidden state at its last token of *any* sequence that starts with it. Per problem, the texts that
are not token prefixes of another text (the "cover") are run once, and every pair reads its two values from them.
The loss is the same sum over pairs of -log sigmoid(r_pos - r_neg) * factor as per-pair scoring (a test checks it);
on search trees it runs about a third of the tokens.

Texts longer than the context are truncated at the front (ppm_ids keeps the end), which breaks the prefix relation:
they are run as sequences of their own.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch

from common import pad

# (sequence index within the group, position of the text's last token)
Slot = Tuple[int, int]


class Group:
    """One problem's pairs: the sequences to run and where each pair's two values are read."""

    def __init__(self, seqs: List[List[int]], pairs: List[Tuple[Slot, Slot, float]], indices: List[int]):
        self.seqs = seqs
        self.pairs = pairs  # (pos slot, neg slot, factor)
        self.indices = indices  # positions of the pairs in the input list
        self.tokens = sum(len(s) for s in seqs)


def build_groups(pairs: Sequence[tuple], max_len: int) -> List[Group]:
    """Groups by problem (pairs[i][3]) of (pos_ids, neg_ids, factor, problem, ...) tuples, in first-seen order."""
    by_problem: Dict[str, List[int]] = {}
    for i, p in enumerate(pairs):
        by_problem.setdefault(p[3], []).append(i)
    return [_group([pairs[i] for i in idx], idx, max_len) for idx in by_problem.values()]


def _group(pairs: Sequence[tuple], indices: List[int], max_len: int) -> Group:
    texts: Dict[Tuple[int, ...], None] = {}
    for p in pairs:
        texts.setdefault(tuple(p[0]), None)
        texts.setdefault(tuple(p[1]), None)
    # Longest first: a text is covered by an earlier (longer) sequence that starts with it. A trie keyed by token
    # keeps this linear in the total length.
    trie: dict = {}
    seqs: List[List[int]] = []
    slot_of: Dict[Tuple[int, ...], Slot] = {}
    for text in sorted(texts, key=len, reverse=True):
        truncated = len(text) >= max_len  # ppm_ids cut its front: not a prefix of anything
        node = trie
        covered = not truncated
        for tok in text:
            if tok not in node:
                covered = False
                break
            node = node[tok]
        if covered:
            slot_of[text] = node["#"]
            continue
        seqs.append(list(text))
        index = len(seqs) - 1
        slot_of[text] = (index, len(text) - 1)
        if truncated:
            continue
        node = trie
        for pos, tok in enumerate(text):
            node = node.setdefault(tok, {})
            node.setdefault("#", (index, pos))
    return Group(seqs, [(slot_of[tuple(p[0])], slot_of[tuple(p[1])], float(p[2])) for p in pairs], indices)


def group_values(model, head, groups: Sequence[Group]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(r_pos, r_neg, factor) for every pair of the groups, in group order; one forward pass over their sequences."""
    seqs: List[List[int]] = []
    rows: List[int] = []
    cols: List[int] = []
    factors: List[float] = []
    for g in groups:
        base = len(seqs)
        seqs.extend(g.seqs)
        for pos, neg, factor in g.pairs:
            rows += [base + pos[0], base + neg[0]]
            cols += [pos[1], neg[1]]
            factors.append(factor)
    # Right padding never reaches a real token's hidden state under the causal mask.
    h = model.hidden(pad(seqs))
    values = head(h[torch.tensor(rows), torch.tensor(cols)])
    return values[0::2], values[1::2], torch.tensor(factors)


def batches_of(groups: Sequence[Group], order: Sequence[int], pairs_per_batch: int, max_tokens: int) -> List[List[Group]]:
    """Consecutive groups (in `order`) until a batch has pairs_per_batch pairs or its padded size would pass max_tokens."""
    out: List[List[Group]] = []
    cur: List[Group] = []
    n_pairs = n_seqs = longest = 0
    for i in order:
        g = groups[i]
        g_longest = max(len(s) for s in g.seqs)
        if cur and (n_pairs >= pairs_per_batch or (n_seqs + len(g.seqs)) * max(longest, g_longest) > max_tokens):
            out.append(cur)
            cur, n_pairs, n_seqs, longest = [], 0, 0, 0
        cur.append(g)
        n_pairs += len(g.pairs)
        n_seqs += len(g.seqs)
        longest = max(longest, g_longest)
    if cur:
        out.append(cur)
    return out
