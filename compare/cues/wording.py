"""Loaded wording: the lexicon's loaded terms, the learned loaded-word model and framing terms."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.cues.lexicon import APOS, Lexicon, apply, context_ok, lexicon, longest
from compare.model import Cue, CueType

# ------------------------------------------------------------------------------------------ loaded

def find_loaded(text: str, lex: Lexicon, *, include_neutral: bool = False) -> list[Cue]:
    """Framing and evaluative terms with their frame. Neutral terms ("captured") only on request."""
    cues = []
    for rule, m in apply(lex.loaded, text):
        if rule.neutral and not include_neutral:
            continue
        if any(f.pattern.fullmatch(m.group(0)) and not context_ok(f, text, m.start(), m.end())
               for f in lex.loaded_filters):
            continue
        value: dict[str, Any] = {"frame": rule.frame}
        if rule.neutral:
            value["neutral"] = True
        cues.append(Cue(CueType.LOADED, m.start(), m.end(), m.group(0), value))
    return longest(cues)


# Learned loaded wording (issue 15): a logistic regression over word tokens, fitted on news sentences whose
# biased words trained annotators marked (BABE; benchmarks/fit_loaded_words.py, data compare/data/
# loaded_words.json). It finds the evaluative words no framing list names ("bizarre", "slammed", "radical
# left"); its cues carry frame "evaluative" and `learned`, and only `detect_cues` reports them: the differ's
# framing comparison (`framing_terms`) stays on the curated lexicon.
_WORD = re.compile(rf"\w+(?:[-{APOS}]\w+)*")
_LEARNED_SKIP_WORDS = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it its this that these
those he she they we you i his her their our your my me him them us who whom whose which what when where why how
not no nor so than then there here also just very more most less least some any all each every both either
neither one two three four five six seven eight nine ten said says say would will can could should may might
must do does did has have had about after before into over under up down out off again further once during
while because until against between through above below only own same too s t don now new mr mrs ms
""".split())


def word_tokens(text: str) -> list[tuple[int, int, str]]:
    """Word tokens (start, end, lower-cased word); hyphenated and apostrophe words stay whole."""
    return [(m.start(), m.end(), m.group(0).lower().replace("’", "'").replace("ʼ", "'")) for m in _WORD.finditer(text)]


def _stem(word: str) -> str:
    for suffix in ("ically", "ally", "ingly", "edly", "ness", "ment", "ing", "ied", "ies", "ly", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def loaded_token_features(text: str) -> list[tuple[int, dict[str, float], tuple[int, int]]]:
    """(index, features, span) for each token that could be a loaded word: not a function word, a number or
    a one- or two-letter word. The features are the token's (word, stem, last letters, capitalisation) and
    its neighbours' words."""
    toks = word_tokens(text)
    out = []
    for i, (s, e, w) in enumerate(toks):
        if w in _LEARNED_SKIP_WORDS or len(w) < 3 or w[0].isdigit():
            continue
        raw = text[s:e]
        feats = {f"w={w}": 1.0, f"st={_stem(w)}": 1.0, f"suf={w[-3:]}": 1.0}
        if raw[0].isupper() and i > 0 and text[toks[i - 1][1]:s].strip() not in (".", "\"", "“", "'"):
            feats["cap"] = 1.0
        if "-" in w:
            feats["hyphen"] = 1.0
        feats[f"p={toks[i - 1][2] if i else '<s>'}"] = 1.0
        feats[f"n={toks[i + 1][2] if i + 1 < len(toks) else '</s>'}"] = 1.0
        out.append((i, feats, (s, e)))
    return out


@lru_cache(maxsize=1)
def _loaded_model() -> dict[str, Any] | None:
    try:
        data = resources.files("compare.data").joinpath("loaded_words.json").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    model: dict[str, Any] = json.loads(data)
    return model


def find_learned_loaded(text: str, lex: Lexicon | None = None) -> list[Cue]:
    """Words the learned loaded-wording model scores at or above its threshold, except in the senses the
    lexicon's loaded filters rule out ("slammed the door", "admitted to hospital")."""
    model = _loaded_model()
    if not model:
        return []
    filters = (lex or lexicon("en")).loaded_filters
    weights, bias, threshold = model["weights"], model["bias"], model["threshold"]
    cues = []
    for _, feats, (s, e) in loaded_token_features(text):
        z = bias + sum(weights.get(f, 0.0) * v for f, v in feats.items())
        p = 1.0 / (1.0 + math.exp(-z))
        if p >= threshold and not any(f.pattern.fullmatch(text[s:e]) and not context_ok(f, text, s, e)
                                      for f in filters):
            cues.append(Cue(CueType.LOADED, s, e, text[s:e], {"frame": "evaluative", "learned": True,
                                                             "score": round(p, 3)}))
    return cues


def framing_terms(text: str, *, language: str = "en") -> list[Cue]:
    """Loaded and neutral terms for an act (the differ compares how outlets name the same act)."""
    return find_loaded(text, lexicon(language), include_neutral=True)
