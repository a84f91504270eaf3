"""Numbers: counts, quantities, fractions, vague amounts and their qualifiers, with the noun they count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from compare.cues.lexicon import APOS, NEAR_CHARS, Spans, _after, ends_before
from compare.model import Cue, CueType

# ------------------------------------------------------------------------------------------ numbers

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "a hundred": 100, "dozen": 12, "a dozen": 12,
}
FRACTIONS = {"half": 50.0, "a half": 50.0, "a third": 33.3, "one third": 33.3, "a quarter": 25.0,
             "one quarter": 25.0, "two-thirds": 66.7, "two thirds": 66.7, "three-quarters": 75.0,
             "three quarters": 75.0, "a fifth": 20.0, "a tenth": 10.0}
VAGUE = {"tens of thousands": 10_000, "hundreds of thousands": 100_000, "dozens": 12, "scores": 20,
         "hundreds": 100, "thousands": 1_000, "millions": 1_000_000}
SCALE_WORDS = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 10**12,
               "bn": 1_000_000_000, "m": 1_000_000, "k": 1_000, "mn": 1_000_000}
QUALIFIERS = [
    ("more than", ">"), ("over", ">"), ("above", ">"), ("in excess of", ">"), ("upwards of", ">"),
    ("just over", ">"), ("well over", ">"), ("at least", ">="), ("no fewer than", ">="), ("no less than", ">="),
    ("a minimum of", ">="), ("less than", "<"), ("fewer than", "<"), ("under", "<"), ("below", "<"),
    ("just under", "<"), ("up to", "<="), ("at most", "<="), ("no more than", "<="), ("as many as", "<="),
    ("a maximum of", "<="), ("about", "~"), ("around", "~"), ("roughly", "~"), ("approximately", "~"),
    ("some", "~"), ("an estimated", "~"), ("estimated", "~"), ("an approximate", "~"), ("circa", "~"),
    ("nearly", "~<"), ("almost", "~<"), ("close to", "~<"), ("just shy of", "~<"),
]
_QUALIFIER_MAP = dict(QUALIFIERS)
_QUALIFIER_BEFORE = re.compile(
    r"(?<![\w-])(?P<qual>" + "|".join(r"\s+".join(map(re.escape, q.split()))
                                       for q, _ in sorted(QUALIFIERS, key=lambda x: -len(x[0])))
    + r")\s+$", re.IGNORECASE)
_NUMWORD_RE = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_FRACTION_RE = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in FRACTIONS), key=len, reverse=True))
_VAGUE_RE = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in VAGUE), key=len, reverse=True))
NUMBER_RE = re.compile(
    r"(?<![\w.,/:-])(?:(?P<cur>[$€£])\s?)?"
    r"(?:(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"|(?P<vague>(?:{_VAGUE_RE}))(?=\s+of\b)"
    rf"|(?P<frac>(?:{_FRACTION_RE}))(?=\s+of\b)"
    rf"|(?P<word>(?:{_NUMWORD_RE})(?:-(?:{_NUMWORD_RE}))?)(?![\w-]))"
    r"(?P<scale>\s?(?:thousand|million|billion|trillion)\b|(?:bn|mn|m|k)\b)?"
    r"(?P<pct>\s?%|\s+per\s?cent\b|\s+percent\b|\s+percentage\s+points?\b)?",
    re.IGNORECASE,
)
MEASURE_UNITS = [
    (r"km/h|kph|kilometres?\s+(?:an|per)\s+hour|mph", "km/h"), (r"cubic\s+met(?:re|er)s?|m3|m³", "m3"),
    (r"square\s+kilomet(?:re|er)s?|sq\s?km|km2|km²", "km2"), (r"kilomet(?:re|er)s?|km", "km"),
    (r"miles?", "mile"), (r"met(?:re|er)s?|m", "m"), (r"centimet(?:re|er)s?|cm", "cm"),
    (r"millimet(?:re|er)s?|mm", "mm"), (r"hectares?|ha", "hectare"), (r"tonnes?|tons?", "tonne"),
    (r"kilograms?|kg", "kg"), (r"dollars?", "USD"), (r"euros?", "EUR"), (r"pounds?\s+sterling", "GBP"),
    (r"crowns?", "crown"), (r"hryvnias?|hryvnia", "hryvnia"), (r"roubles?|rubles?", "rouble"),
    (r"degrees", "degree"),
]
_MEASURE_RE = re.compile(r"\s*(?P<unit>" + "|".join(f"(?:{p})" for p, _ in MEASURE_UNITS) + r")(?![\w/])",
                         re.IGNORECASE)
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP"}
_FUNCTION_WORDS = set(
    "a an the of to in on at by for from with and or but as is are was were be been being has have had it its this "
    "that these those which who whom whose there than then so such not no per each more most other others "
    "over under about after before into onto out up down off all both said says told while when where if "
    "will would could should may might can must did does do also still only just yet again ago later earlier "
    "percent year-old years-old times a.m. p.m. local this next last km m".split()
)
_ADJ_BEFORE_NOUN = re.compile(r"^(?:[a-z-]+(?:ed|en|al|an|ian|ish|ese|ive|ic|ary|ary|ing|le)|more|other|additional|"
                              r"new|young|old|small|large|big|heavy|light|military|civilian|foreign|local|"
                              r"armoured|armored|wounded|injured|dead|missing|displaced|unarmed)$")
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman", "crew": "crew",
              "police": "police", "staff": "staff", "personnel": "personnel", "troops": "troop",
              "dead": "dead", "wounded": "wounded", "injured": "injured", "killed": "killed",
              "sheep": "sheep", "aircraft": "aircraft", "fish": "fish", "buses": "bus", "series": "series",
              "news": "news", "lives": "life", "wives": "wife", "feet": "foot", "teeth": "tooth",
              "mice": "mouse", "geese": "goose", "outskirts": "outskirts", "headquarters": "headquarters",
              "premises": "premises", "media": "media"}
_ID_WORDS = re.compile(r"(?:#|\b(?:No|Nos|Nr|Route|Article|Block|Flight|Section|Platform|Gate|Room|"
                       r"Chapter|Resolution|Highway|Building|Unit|Line|Bus|Page|Item|Clause|"
                       r"Pier|Berth|Terminal|Act|Part|aged|age|House|Code|Season|Episode|"
                       r"Phase|Stage|Level|Grade|Type|Model|version|Group|District))\.?\s*$")


@lru_cache(maxsize=65536)
def singular(word: str) -> str:
    """English singular of a lower-cased noun, for matching lexicon entries ("villages" -> "village",
    "buses" -> "bus", "people" -> "person"); words with no singular of their own stay as they are."""
    word = word.lower().strip(APOS)
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|ss|x|z)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def number_value(raw: str) -> float | None:
    raw = re.sub(r"\s+", " ", raw.strip().lower())
    if raw in NUMBER_WORDS:
        return float(NUMBER_WORDS[raw])
    parts = re.split(r"[- ]", raw)
    if all(p in NUMBER_WORDS for p in parts):
        return float(sum(NUMBER_WORDS[p] for p in parts))
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


_NOUN_AFTER = re.compile(r"\s+([A-Za-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")


def _noun_after(text: str, pos: int) -> tuple[str | None, int]:
    """The counted noun right after a number ("17 ships", "15 wounded soldiers") and where it ends."""
    m = _NOUN_AFTER.match(_after(text, pos))
    if not m:
        return None, pos
    first, second = m.group(1), m.group(2)
    if first.lower() in _FUNCTION_WORDS or first.endswith("ly") or (first[0].isupper() and not second):
        return None, pos
    adjective = bool(_ADJ_BEFORE_NOUN.match(first.lower())) and (
        first.lower() not in _IRREGULAR or first.lower() in ("wounded", "injured", "dead", "killed"))
    if first[0].isupper() or adjective:
        if second and second not in _FUNCTION_WORDS and not second.endswith(("ed", "ly")):
            return second, pos + m.end(2)
        if first[0].isupper():
            return None, pos
    return first, pos + m.end(1)


def find_numbers(text: str, date_spans: Sequence[tuple[int, int]] = ()) -> list[Cue]:
    """Quantities with value, unit and qualifier; years, dates, identifiers and times are not quantities."""
    cues: list[Cue] = []
    skip_until = -1
    in_date = Spans(date_spans)
    for m in NUMBER_RE.finditer(text):
        if m.start() < skip_until:
            continue
        s, e = m.start(), m.end()
        if in_date.has_point(s):
            continue
        after = _after(text, e)
        raw = m.group("num") or m.group("word") or ""
        if m.group("num"):
            if ends_before(_LETTER_BEFORE, text, s, NEAR_CHARS) or _NOT_A_COUNT_AFTER.match(after):
                continue  # F-16, Covid-19, 92nd, 3 p.m., 09:00, 2-1, SU1402
            if ends_before(_ID_WORDS, text, s, NEAR_CHARS):
                continue  # No. 4, Route 7, Article 5, aged 61
            if ends_before(_CAP_WORD_BEFORE, text, s, NEAR_CHARS) \
                    and not ends_before(_SENTENCE_FIRST_WORD_BEFORE, text, s, NEAR_CHARS) \
                    and not ends_before(_QUALIFIER_BEFORE, text, s, NEAR_CHARS):
                continue  # Block 12, Brigade 92 (a capitalised word right before)
        value: float | None
        unit: str | None = None
        qualifier = "="
        end = e
        if m.group("vague"):
            value = float(VAGUE[re.sub(r"\s+", " ", m.group("vague").lower())])
            qualifier = ">"
            of = _OF.match(after)
            noun, noun_end = _noun_after(text, e + (len(of.group(0)) if of else 0))
            if noun:
                unit, end = singular(noun), noun_end
        elif m.group("frac"):
            value = FRACTIONS[re.sub(r"\s+", " ", m.group("frac").lower())]
            unit = "%"
        else:
            value = number_value(raw)
            if value is None:
                continue
            if m.group("word") and raw.lower() == "one" and (_OF.match(after)
                                                             or ends_before(_NO_BEFORE, text, s, NEAR_CHARS)):
                continue  # "one of the victims", "no one"
            if m.group("scale"):
                scale = m.group("scale").strip().lower()
                if scale in ("m", "k", "mn", "bn") and not m.group("cur") and not re.match(r"\s", m.group("scale")):
                    if scale == "m" and not m.group("cur"):
                        value, end = value, m.start("scale")  # "40m" without a currency: metres, below
                    else:
                        value *= SCALE_WORDS[scale]
                elif scale in ("m", "k", "mn", "bn") and re.match(r"\s", m.group("scale")) and not m.group("cur"):
                    end = m.start("scale")
                else:
                    value *= SCALE_WORDS[scale]
            if m.group("pct"):
                unit = "pp" if "point" in m.group("pct").lower() else "%"
            elif m.group("cur"):
                unit = _CURRENCY[m.group("cur")]
            else:
                measure = _MEASURE_RE.match(text, end)
                if measure:
                    word = measure.group("unit")
                    unit = next(u for p, u in MEASURE_UNITS if re.fullmatch(p, word, re.IGNORECASE))
                    end = measure.end()
                else:
                    noun, noun_end = _noun_after(text, end)
                    if noun and m.group("num") and _YEARISH.match(raw) and noun.lower() not in _IRREGULAR \
                            and not noun.lower().endswith("s"):
                        noun = None
                    if noun:
                        unit, end = singular(noun), noun_end
            if m.group("num") and _YEARISH.match(raw) and unit is None:
                continue  # a year is a date, not a quantity
            if m.group("word") and unit is None and not _COUNT_VERB_AFTER.match(after) \
                    and not ends_before(_QUALIFIER_BEFORE, text, s, NEAR_CHARS):
                continue  # "two sides", "one resident said": a number word needs a count or a verb
        start = s
        qual = ends_before(_QUALIFIER_BEFORE, text, s, NEAR_CHARS)
        if qual and not ends_before(_PHRASAL_UP_TO, text, s, NEAR_CHARS):
            qualifier = _QUALIFIER_MAP[re.sub(r"\s+", " ", qual.group("qual").lower())]
            start = qual.start("qual")
        between = ends_before(_BETWEEN_BEFORE, text, s, NEAR_CHARS)
        range_end = _RANGE_END.match(_after(text, end))
        extra: dict[str, Any] = {}
        if between and range_end and between.group(1).lower() == "between":
            start = between.start(1)
            qualifier = ">="
            extra["max"] = number_value(range_end.group(1))
            end = end + range_end.end()
            skip_until = end
            noun, noun_end = _noun_after(text, end)
            if unit is None and noun:
                unit = singular(noun)
        payload: dict[str, Any] = {"value": int(value) if float(value).is_integer() else round(value, 4),
                                   "unit": unit, "qualifier": qualifier, **extra}
        cues.append(Cue(CueType.NUMBER, start, end, text[start:end], payload))
    return cues


_YEARISH = re.compile(r"^(1[6-9]\d\d|20\d\d)$")
_LETTER_BEFORE = re.compile(r"[A-Za-z]-?$")
_NOT_A_COUNT_AFTER = re.compile(r"(?:st|nd|rd|th)\b|[:/]\d|-\d|\s?[ap]\.?m\.?(?!\w)"
                                r"|(?!(?:mm|cm|km|kg|m|bn|mn|k|ha)\b)[A-Za-z]")
_CAP_WORD_BEFORE = re.compile(r"\b[A-Z][a-z]+\s+$")
_SENTENCE_FIRST_WORD_BEFORE = re.compile(r"(?:^|[.!?]\s+)[A-Z][a-z]+\s+$")
_OF = re.compile(r"\s+of\b")
_NO_BEFORE = re.compile(r"\bno\s+$", re.IGNORECASE)
_COUNT_VERB_AFTER = re.compile(r"\s+(?:of\s+the|of\s+them|of\s+us|were|was|had|have|are|died|remain|remained|"
                               r"survived)\b")
_BETWEEN_BEFORE = re.compile(r"\b(between|from)\s+$", re.IGNORECASE)
_RANGE_END = re.compile(r"\s+(?:and|to|-)\s+(\d[\d,.]*)")
# "revised up to 34": a phrasal verb, not the qualifier "up to".
_PHRASAL_UP_TO = re.compile(r"\b(?:revised|rose|risen|climbed|went|gone|go|goes|rising|shot|ramped)\s+up\s+to\s+$",
                            re.IGNORECASE)
