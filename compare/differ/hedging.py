"""Hedging and negation: one outlet hedges or denies what another reports plainly."""

from __future__ import annotations

import re

from compare.differ.common import Sides, inside_any, presence
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Event,
    Statement,
)

_DENIAL = re.compile(r"\b(?:den(?:y|ied|ies|ying)|reject(?:ed|s)?|disput(?:ed|es)|dismiss(?:ed|es)|refut(?:ed|es)|"
                     r"question(?:ed|s)?|doubt(?:ed|s)?)\s+(?:the|this|that|these|those|its|their|a|such)?\s*$",
                     re.IGNORECASE)

# "a claim the union disputes", "the claim": the noun names another party's claim that the statement
# weighs, it does not hedge the statement's own report.
_CLAIM_NOUN = re.compile(r"\b(?:a|the|this|that|these|those|its|their|his|her|such)\s+$", re.IGNORECASE)

# Expectations about the future ("talks are expected to resume") are forecasts, not doubt about a fact.
_FORECAST = re.compile(r"\bexpected\s+to\b", re.IGNORECASE)


def _real_hedge(statement: Statement, cue: Cue) -> bool:
    """A hedge on the statement's own claim: not the object of a denial ("denied the claim"), not the noun
    "claim" naming someone else's claim, not a forecast."""
    before = statement.text[:cue.start]
    if _DENIAL.search(before) or _FORECAST.search(cue.text):
        return False
    return not (cue.text.lower() in ("claim", "claims") and _CLAIM_NOUN.search(before))


def detect_hedging(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return presence(sides, CueType.HEDGE, DifferenceType.HEDGING, event, outlets, "hedged", _real_hedge)


# "without power", "nor"; Russian/Ukrainian "без" (without).
_NOT_DENIALS = {"without", "nor", "без"}

# The content of a demand or assurance ("a promise that automation would not cost a single job", "a
# guarantee that no jobs would be lost") is what someone asks for, not a negated fact.
_ASSURANCE = re.compile(r"\b(?:promise|promises|guarantee|guarantees|assurance|assurances|pledge|pledges|commitment|"
                        r"demand|demands|undertaking|vow)\s+that\b[^,;.]*$", re.IGNORECASE)

# "..., a claim the operator denied": another party's rebuttal appended to the outlet's report.
_REBUTTAL = re.compile(r",\s*(?:a|the)\s+claims?\s+(?:that\s+)?(?!could|can|was|has|is)[^,.;]*", re.IGNORECASE)


def in_rebuttal(statement: Statement, start: int) -> bool:
    return any(m.start() <= start < m.end() for m in _REBUTTAL.finditer(statement.text))


def _real_negation(statement: Statement, cue: Cue) -> bool:
    """A negation of the event: not one inside a hedge ("could not be verified"), not "without power",
    not inside the content of a promise or demand, not another party's rebuttal ("a claim X denied")."""
    hedges = [c for c in statement.cues if c.type == CueType.HEDGE]
    if inside_any(cue, hedges) or cue.text.lower() in _NOT_DENIALS or in_rebuttal(statement, cue.start):
        return False
    return not _ASSURANCE.search(statement.text[:cue.start])


def detect_negation(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return presence(sides, CueType.NEGATION, DifferenceType.NEGATION, event, outlets,
                     "denied or negated", _real_negation)
