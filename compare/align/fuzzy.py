"""rapidfuzz's `token_set_ratio` (after `default_process`) for many statement pairs of one story, compiled.

rapidfuzz re-splits, sorts and de-duplicates both strings on every call, which is most of its cost when
a story has a million candidate pairs over a few thousand statements. Here each statement is tokenised
once per story: its distinct tokens become integer ids, assigned in the sorted order of the token
strings, so a statement's sorted id array lists its tokens in rapidfuzz's sorted string order (Python
and rapidfuzz both order strings by code point). Token characters are mapped to a small per-story
alphabet (code 0 is the joining space). Per pair, a merge of two id arrays gives the intersection and
both differences, and the Indel distance of the two joined differences comes from a bit-parallel LCS
(Hyyrö), the same quantities and the same float arithmetic as rapidfuzz, so scores are identical
(tests/test_fuzzy.py checks this against rapidfuzz on random Unicode strings).

Importing this module imports numba; with loading the cached kernel that is ~0.6 CPU-s per process,
so the aligner imports it only for large candidate sets and keeps rapidfuzz for small ones and where
numba is missing. Compiled code is cached on disk (`cache=True`, numba's __pycache__ or user cache
directory), so only the first run after installing compiles (6-7 CPU-s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np


@dataclass(frozen=True)
class TokenTable:
    """One story's statements as sorted distinct token ids (CSR: `tok_ptr` / `tok_ids`), each token's
    length and its characters as alphabet codes (CSR: `char_ptr` / `chars`)."""

    tok_ptr: np.ndarray  # int64, n_statements + 1
    tok_ids: np.ndarray  # int32, sorted within each statement
    tok_len: np.ndarray  # int64, per token id
    char_ptr: np.ndarray  # int64, n_tokens + 1
    chars: np.ndarray  # int32 alphabet codes, 1..n_codes-1 (0 is the joining space)
    n_codes: int
    max_joined: int  # longest joined token string of any statement (bounds both differences)


def tokenise(texts: Sequence[str]) -> TokenTable:
    """Tokenise each text as token_set_ratio does after default_process: distinct whitespace-split
    tokens of the processed text."""
    from rapidfuzz.utils import default_process

    token_sets = [set(default_process(t).split()) for t in texts]
    vocab = sorted(set().union(*token_sets)) if token_sets else []
    index = {tok: k for k, tok in enumerate(vocab)}
    counts = np.fromiter((len(s) for s in token_sets), dtype=np.int64, count=len(token_sets))
    tok_ptr = np.zeros(len(token_sets) + 1, dtype=np.int64)
    np.cumsum(counts, out=tok_ptr[1:])
    tok_ids = np.fromiter((k for s in token_sets for k in sorted(index[t] for t in s)), dtype=np.int32,
                          count=int(tok_ptr[-1]))
    tok_len = np.fromiter((len(t) for t in vocab), dtype=np.int64, count=len(vocab))
    char_ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(tok_len, out=char_ptr[1:])
    points = np.frombuffer("".join(vocab).encode("utf-32-le"), dtype=np.uint32)
    alphabet, codes = np.unique(points, return_inverse=True)
    chars_before = np.concatenate([[0], np.cumsum(tok_len[tok_ids])])  # joined length: chars + spaces
    joined = np.where(counts > 0, chars_before[tok_ptr[1:]] - chars_before[tok_ptr[:-1]] + counts - 1, 0)
    return TokenTable(tok_ptr, tok_ids, tok_len, char_ptr, (codes.astype(np.int32) + 1).reshape(-1),
                      int(alphabet.size) + 1, int(joined.max()) if joined.size else 0)


def token_set_ratios(table: TokenTable, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """token_set_ratio (0-100, float32 like `process.cpdist(..., dtype=np.float32)`) of statements
    `left[k]` and `right[k]` for every k. Releases the GIL while it runs."""
    left = np.ascontiguousarray(left, dtype=np.int64)
    right = np.ascontiguousarray(right, dtype=np.int64)
    out = np.empty(left.shape[0], dtype=np.float32)
    if out.size:
        _pairs(table.tok_ptr, table.tok_ids, table.tok_len, table.char_ptr, table.chars, table.n_codes,
               table.max_joined, left, right, out)
    return out


_jit = numba.njit(nogil=True, cache=True, boundscheck=False)
_u64 = numba.uint64


@_jit
def _popcount(x: Any) -> int:
    x = x - ((x >> _u64(1)) & _u64(0x5555555555555555))
    x = (x & _u64(0x3333333333333333)) + ((x >> _u64(2)) & _u64(0x3333333333333333))
    x = (x + (x >> _u64(4))) & _u64(0x0F0F0F0F0F0F0F0F)
    return int((x * _u64(0x0101010101010101)) >> _u64(56))


@_jit
def _add(a: Any, b: Any, carry: Any) -> tuple[Any, Any]:
    """a + b + carry over 64-bit words: (sum, carry out)."""
    x = a + b
    y = x + carry
    return y, (_u64(1) if x < a else _u64(0)) | (_u64(1) if y < x else _u64(0))


@_jit
def _mark(pm: Any, tok_ids: Any, lo: int, hi: int, char_ptr: Any, chars: Any, set_bits: bool) -> int:
    """Sets (or clears) the pattern match vectors of tokens tok_ids[lo:hi] joined by spaces: bit p of
    pm[c, p // 64] says the joined pattern has character code c at position p. Returns its length."""
    pos = 0
    for r in range(lo, hi):
        t = tok_ids[r]
        if r > lo:
            if set_bits:
                pm[0, pos >> 6] |= _u64(1) << _u64(pos & 63)
            else:
                pm[0, pos >> 6] = _u64(0)
            pos += 1
        for p in range(char_ptr[t], char_ptr[t + 1]):
            if set_bits:
                pm[chars[p], pos >> 6] |= _u64(1) << _u64(pos & 63)
            else:
                pm[chars[p], pos >> 6] = _u64(0)
            pos += 1
    return pos


@_jit
def _step(pm: Any, c: int, words: int, s0: Any, s1: Any, s2: Any, s3: Any) -> tuple[Any, Any, Any, Any]:
    """One text character of the bit-parallel LCS over up to four words held in locals:
    S' = (S + (S & M)) | (S - (S & M)), with the addition's carry running from word to word."""
    u0 = s0 & pm[c, 0]
    if words == 1:
        return (s0 + u0) | (s0 - u0), s1, s2, s3
    x0, k = _add(s0, u0, _u64(0))
    u1 = s1 & pm[c, 1]
    if words == 2:
        return x0 | (s0 - u0), (s1 + u1 + k) | (s1 - u1), s2, s3
    x1, k = _add(s1, u1, k)
    u2 = s2 & pm[c, 2]
    if words == 3:
        return x0 | (s0 - u0), x1 | (s1 - u1), (s2 + u2 + k) | (s2 - u2), s3
    x2, k = _add(s2, u2, k)
    u3 = s3 & pm[c, 3]
    return x0 | (s0 - u0), x1 | (s1 - u1), x2 | (s2 - u2), (s3 + u3 + k) | (s3 - u3)


@_jit
def _lcs(pm: Any, words: int, text: Any, n_tokens: int, char_ptr: Any, chars: Any, state: Any) -> int:
    """Longest common subsequence of the pattern in `pm` (`words` 64-bit words) and the text tokens
    joined by spaces, read straight from the story's character table: bit-parallel (Hyyrö 2004), the LCS
    is the number of zero bits of S. Up to four words the state stays in locals: each text character's
    update depends on the previous one, and a store and load per word would lengthen that chain."""
    ones = ~_u64(0)
    common = 0
    if words <= 4:
        s0 = ones
        s1 = ones
        s2 = ones
        s3 = ones
        for i in range(n_tokens):
            t = text[i]
            if i:
                s0, s1, s2, s3 = _step(pm, 0, words, s0, s1, s2, s3)
            for p in range(char_ptr[t], char_ptr[t + 1]):
                s0, s1, s2, s3 = _step(pm, chars[p], words, s0, s1, s2, s3)
        return _popcount(~s0) + _popcount(~s1) + _popcount(~s2) + _popcount(~s3)
    for w in range(words):
        state[w] = ones
    for i in range(n_tokens):
        t = text[i]
        for p in range(char_ptr[t] - (1 if i else 0), char_ptr[t + 1]):
            c = chars[p] if p >= char_ptr[t] else 0  # the joining space before all but the first token
            k = _u64(0)
            for w in range(words):
                sw = state[w]
                u = sw & pm[c, w]
                x, k = _add(sw, u, k)
                state[w] = x | (sw - u)
    for w in range(words):
        common += _popcount(~state[w])
    return common


@_jit
def _hide(pm: Any, code: int, pos: int, hidden: Any, n_hidden: int) -> int:
    """Clears pattern position `pos` (character `code`) and records it for restoring."""
    pm[code, pos >> 6] &= ~(_u64(1) << _u64(pos & 63))
    hidden[n_hidden, 0] = code
    hidden[n_hidden, 1] = pos
    return n_hidden + 1


@_jit
def _pairs(tok_ptr: Any, tok_ids: Any, tok_len: Any, char_ptr: Any, chars: Any, n_codes: int,
           max_joined: int, left: Any, right: Any, out: Any) -> None:
    """rapidfuzz fuzz_impl token_set_ratio with score_cutoff 0, per (left[k], right[k]).

    Pairs run in order of their left statement, whose whole joined token string is the LCS pattern,
    set up once per left statement: for a pair, the positions of the tokens it shares with the right
    statement (and the spaces that would not be in the joined difference) are cleared from the match
    vectors. A position that never matches stays 1 in S and passes the carry on, as if it were not
    there, so the LCS equals that of the joined differences. The text is the right statement's
    difference."""
    words_max = max((max_joined + 63) >> 6, 4)
    pm = np.zeros((n_codes, words_max), dtype=np.uint64)
    state = np.empty(words_max, dtype=np.uint64)
    diff_b = np.empty(max_joined + 1, dtype=np.int32)
    hidden = np.empty((max_joined + 1, 2), dtype=np.int64)
    order = np.argsort(left, kind="mergesort")
    current = -1
    words = 1
    for idx in range(order.shape[0]):
        k = order[idx]
        a = left[k]
        b = right[k]
        ia = tok_ptr[a]
        ea = tok_ptr[a + 1]
        ib = tok_ptr[b]
        eb = tok_ptr[b + 1]
        if ia == ea or ib == eb:  # an empty token set scores 0 (FuzzyWuzzy compatibility)
            out[k] = 0.0
            continue
        if a != current:
            if current >= 0:
                _mark(pm, tok_ids, tok_ptr[current], tok_ptr[current + 1], char_ptr, chars, False)
            words = (_mark(pm, tok_ids, ia, ea, char_ptr, chars, True) + 63) >> 6
            current = a
        n_sect = 0
        sect_chars = 0
        na = 0
        nb = 0  # diff_ba tokens, in sorted order
        m = -1  # joined lengths of the differences: characters plus one space between tokens
        n = -1
        pos = 0  # where token ia starts in the left statement's joined string
        n_hidden = 0
        while ia < ea:
            ta = tok_ids[ia]
            if ib < eb and tok_ids[ib] < ta:
                diff_b[nb] = tok_ids[ib]
                nb += 1
                n += tok_len[tok_ids[ib]] + 1
                ib += 1
                continue
            if ib < eb and tok_ids[ib] == ta:  # shared: hide the token and the space before it
                n_sect += 1
                sect_chars += tok_len[ta]
                if pos:
                    n_hidden = _hide(pm, 0, pos - 1, hidden, n_hidden)
                for p in range(char_ptr[ta], char_ptr[ta + 1]):
                    n_hidden = _hide(pm, chars[p], pos + p - char_ptr[ta], hidden, n_hidden)
                ib += 1
            else:  # in diff_ab: its space stays only after an earlier token of the difference
                if pos and na == 0:
                    n_hidden = _hide(pm, 0, pos - 1, hidden, n_hidden)
                na += 1
                m += tok_len[ta] + 1
            pos += tok_len[ta] + 1
            ia += 1
        while ib < eb:
            diff_b[nb] = tok_ids[ib]
            nb += 1
            n += tok_len[tok_ids[ib]] + 1
            ib += 1
        m = max(m, 0)
        n = max(n, 0)
        if n_sect and (na == 0 or nb == 0):  # one sentence is part of the other
            result = 100.0
        else:
            sect_len = sect_chars + n_sect - 1 if n_sect else 0
            sep = 1 if sect_len else 0
            sect_ab_len = sect_len + sep + m
            sect_ba_len = sect_len + sep + n
            lensum = sect_ab_len + sect_ba_len
            dist = m + n - 2 * _lcs(pm, words, diff_b, nb, char_ptr, chars, state)
            result = 100.0 - 100.0 * dist / lensum if lensum else 100.0
            if sect_len:
                ab_ratio = 100.0 - 100.0 * (sep + m) / (sect_len + sect_ab_len)
                ba_ratio = 100.0 - 100.0 * (sep + n) / (sect_len + sect_ba_len)
                result = max(result, ab_ratio, ba_ratio)
        out[k] = result
        for h in range(n_hidden):
            code = hidden[h, 0]
            p = hidden[h, 1]
            pm[code, p >> 6] |= _u64(1) << _u64(p & 63)
