"""Wording: loaded terms one outlet uses where another is neutral."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from compare.cues.lexicon import lexicon
from compare.cues.wording import framing_terms
from compare.differ.common import Sides, make_difference, quoted, statement_evidence
from compare.model import (
    Cue,
    Difference,
    DifferenceType,
    Event,
    Statement,
)


@lru_cache(maxsize=1)
def _neutral_frames() -> frozenset[str]:
    """Frames that name an act plainly ("capture", "labour-action"). A frame is neutral in every language
    once one lexicon (English, the reference) marks it so: "захоплення" is as plain as "captured"."""
    return frozenset(r.frame for r in lexicon("en").loaded if r.neutral and r.frame)


def _neutral(cue: Cue) -> bool:
    value = cue.value if isinstance(cue.value, dict) else {}
    return bool(value.get("neutral")) or value.get("frame") in _neutral_frames()


def detect_wording(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Outlets name the same act with terms of different frames ("liberated" vs "captured" vs "occupied"),
    or one uses a loaded term where the others use none. Strongest when both sides name the act."""
    terms: dict[str, list[tuple[Statement, Cue]]] = {}
    for doc, statements in sides.items():
        terms[doc] = [(s, c) for s in statements for c in framing_terms(s.text, language=s.language)]

    def frames(doc: str, loaded_only: bool = False) -> set[str]:
        return {str((c.value or {}).get("frame")) for _, c in terms[doc] if not (loaded_only and _neutral(c))}

    docs = sorted(sides)
    involved: dict[str, list[tuple[Statement, Cue]]] = defaultdict(list)
    whole: set[str] = set()
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            fa, fb = frames(a), frames(b)
            la, lb = frames(a, loaded_only=True), frames(b, loaded_only=True)
            if fa and fb and (la - fb or lb - fa):
                # Both name the act, with different frames, at least one of them loaded.
                for doc, other in ((a, fb), (b, fa)):
                    for s, c in terms[doc]:
                        if (c.value or {}).get("frame") not in other and (s, c) not in involved[doc]:
                            involved[doc].append((s, c))
            elif (la and not fb) or (lb and not fa):
                loaded_doc, plain_doc = (a, b) if la and not fb else (b, a)
                for s, c in terms[loaded_doc]:
                    if not _neutral(c) and (s, c) not in involved[loaded_doc]:
                        involved[loaded_doc].append((s, c))
                whole.add(plain_doc)
    if not involved:
        return []
    evidence = [statement_evidence(s, c) for d in involved for s, c in involved[d]]
    evidence += [statement_evidence(s) for d in whole - set(involved) for s in sides[d]]
    parts = [f"{outlets[d]}: {quoted(involved[d])}" for d in sorted(involved)]
    plain = sorted(whole - set(involved))
    explanation = "framing terms differ — " + "; ".join(parts)
    if plain:
        explanation += "; " + ", ".join(outlets[d] for d in plain) + (" uses" if len(plain) == 1 else " use") \
            + " no such term"
    return [make_difference(DifferenceType.WORDING, event, sorted(set(involved) | whole), evidence, explanation + ".")]
