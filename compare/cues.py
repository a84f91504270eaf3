"""Find the cues inside one statement that differences rest on: hedges, negations, attributions,
numbers, dates, places, named entities and loaded terms, each with its span and a normalised value.

One parser for both uses: the differ compares the cues of aligned statements, and `storydiff
annotate` prints them. Lexicons are data files in `compare/lexicons/` (one per language).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.model import Cue, CueType

WORD = r"[\w'ʼ’-]"


@dataclass(frozen=True)
class Lexicon:
    language: str
    hedge: re.Pattern[str] | None
    negation: re.Pattern[str] | None
    attribution_verbs: re.Pattern[str] | None
    attribution_markers: re.Pattern[str] | None
    loaded: tuple[tuple[str, re.Pattern[str]], ...]


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        escaped = r"\s+".join(re.escape(w) for w in phrase.split())
        if phrase.startswith("n't"):
            parts.append(escaped + r"\b")
        else:
            parts.append(r"(?<![\w'ʼ’])" + escaped + r"(?![\w'ʼ’-])")
    return re.compile("|".join(parts), re.IGNORECASE)


@lru_cache(maxsize=8)
def lexicon(language: str) -> Lexicon:
    """The cue lexicon for a language (falls back to English when none is shipped)."""
    data = _load_lexicon_data(language) or _load_lexicon_data("en") or {}
    loaded = tuple(
        (term["frame"], pattern)
        for term in data.get("loaded", {}).get("terms", [])
        if (pattern := _phrase_pattern(term.get("phrases", []))) is not None
    )
    return Lexicon(
        language=language,
        hedge=_phrase_pattern(data.get("hedge", {}).get("phrases", [])),
        negation=_phrase_pattern(data.get("negation", {}).get("phrases", [])),
        attribution_verbs=_phrase_pattern(data.get("attribution", {}).get("verbs", [])),
        attribution_markers=_phrase_pattern(data.get("attribution", {}).get("markers", [])),
        loaded=loaded,
    )


def _load_lexicon_data(language: str) -> dict[str, Any] | None:
    try:
        text = resources.files("compare.lexicons").joinpath(f"{language}.toml").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    return tomllib.loads(text)


@dataclass(frozen=True)
class Gazetteer:
    canonical_by_variant: dict[str, str]
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    text = resources.files("compare.lexicons").joinpath("places.toml").read_text("utf-8")
    data = tomllib.loads(text)
    by_variant: dict[str, str] = {}
    alternatives = []
    for entry in data.get("place", []):
        for variant in entry.get("variants", []):
            by_variant[_fold(variant)] = entry["canonical"]
            alternatives.append(re.escape(variant) + r"(?![\w'ʼ’])")
        for stem in entry.get("stems", []):
            by_variant[_fold(stem)] = entry["canonical"]
            alternatives.append(re.escape(stem) + r"\w*")
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(r"(?<![\w'ʼ’])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)
    return Gazetteer(by_variant, pattern)


def _fold(text: str) -> str:
    return text.lower().replace("ʼ", "'").replace("’", "'")


def canonical_name(text: str) -> str:
    """A spelling-independent key for a name: gazetteer canonical, else transliterated and folded."""
    gaz = gazetteer()
    folded = _fold(text)
    if folded in gaz.canonical_by_variant:
        return gaz.canonical_by_variant[folded]
    for variant, canonical in gaz.canonical_by_variant.items():
        if " " not in folded and folded.startswith(variant) and len(variant) >= 5:
            return canonical
    from anyascii import anyascii

    ascii_name = anyascii(text)
    ascii_name = re.sub(r"['`’ʼ]", "", ascii_name)
    ascii_name = re.sub(r"\s+", " ", ascii_name).strip()
    return ascii_name.title()


# ------------------------------------------------------------------------------------------ numbers

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "a hundred": 100, "dozen": 12, "a dozen": 12, "half": 50,
}
SCALE_WORDS = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "k": 1000}
QUALIFIERS = [
    ("more than", ">"), ("over", ">"), ("above", ">"), ("in excess of", ">"), ("upwards of", ">"),
    ("at least", ">="), ("no fewer than", ">="), ("no less than", ">="), ("a minimum of", ">="),
    ("less than", "<"), ("fewer than", "<"), ("under", "<"), ("below", "<"),
    ("up to", "<="), ("at most", "<="), ("no more than", "<="), ("as many as", "<="),
    ("about", "~"), ("around", "~"), ("roughly", "~"), ("approximately", "~"), ("nearly", "~<"),
    ("almost", "~<"), ("some", "~"), ("an estimated", "~"), ("estimated", "~"), ("close to", "~<"),
    ("just over", ">"), ("just under", "<"), ("some", "~"),
]
_QUALIFIER_RE = "|".join(sorted({re.escape(q) for q, _ in QUALIFIERS}, key=len, reverse=True))
_QUALIFIER_MAP = dict(QUALIFIERS)
_NUMWORD_RE = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUMBER_RE = re.compile(
    rf"(?:(?P<qual>{_QUALIFIER_RE})\s+)?"
    r"(?P<num>\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"
    rf"|(?:{_NUMWORD_RE})(?:[- ](?:{_NUMWORD_RE}))?)"
    r"(?:\s*(?P<scale>thousand|million|billion)\b)?"
    r"(?:\s*(?P<pct>%|per\s?cent\b|percent\b))?"
    r"(?:\s*(?P<unit>(?:square\s+)?(?:km|kilometres?|kilometers?|miles?|metres?|meters?|people|civilians?|"
    r"soldiers?|troops|workers?|residents?|homes?|houses?|buildings?|villages?|settlements?|vessels?|ships?|"
    r"containers?|hours?|days?|weeks?|months?|years?|dollars?|euros?|hryvnias?|roubles?|rubles?|tonnes?|"
    r"tons?|buses|families|children|dead|killed|injured|wounded|casualties|deaths|victims|patients|"
    r"members|employees|cranes|berths|jobs|percent|points?|cm|mm|m)\b))?",
    re.IGNORECASE,
)
_YEARISH = re.compile(r"^(1[89]\d\d|20\d\d)$")


def _number_value(raw: str) -> float | None:
    raw = raw.strip().lower()
    if raw in NUMBER_WORDS:
        return float(NUMBER_WORDS[raw])
    parts = re.split(r"[- ]", raw)
    if all(p in NUMBER_WORDS for p in parts):
        return float(sum(NUMBER_WORDS[p] for p in parts))
    cleaned = re.sub(r"[,\u00a0\u202f ](?=\d{3}\b)", "", raw)
    cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def find_numbers(text: str) -> list[Cue]:
    cues = []
    for m in NUMBER_RE.finditer(text):
        num = m.group("num")
        if not num or (m.start("num") > 0 and text[m.start("num") - 1].isalnum()):
            continue
        if num.lower() in ("some", "half") and not m.group("pct"):
            continue
        value = _number_value(num)
        if value is None:
            continue
        unit = None
        if m.group("pct") or (m.group("unit") or "").lower() == "percent":
            unit = "%"
        elif m.group("unit"):
            unit = _singular(m.group("unit").lower())
        if (_YEARISH.match(num) and unit is None) or _inside_date(text, m.start("num"), m.end("num")):
            continue  # years and day-of-month numbers are dates, not quantities
        if num.isalpha() and unit is None and value < 100:
            continue  # "one of the", "two sides": number words count only with a unit
        if m.group("scale"):
            value *= SCALE_WORDS[m.group("scale").lower()]
        qualifier = _QUALIFIER_MAP.get((m.group("qual") or "").lower(), "=")
        start = m.start("qual") if m.group("qual") else m.start("num")
        end = m.end("pct") if m.group("pct") else (m.end("unit") if m.group("unit") else m.end())
        end = max(end, m.end("num"))
        payload = {"value": int(value) if value.is_integer() else value, "unit": unit,
                   "qualifier": qualifier}
        cues.append(Cue(CueType.NUMBER, start, end, text[start:end], payload))
    return cues


def _singular(word: str) -> str:
    irregular = {"people": "people", "children": "children", "buses": "bus", "families": "family",
                 "casualties": "casualty", "deaths": "death", "dead": "dead", "killed": "killed",
                 "injured": "injured", "wounded": "wounded", "troops": "troop"}
    if word in irregular:
        return irregular[word]
    word = re.sub(r"\s+", " ", word)
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


# -------------------------------------------------------------------------------------------- dates

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
              "sept": 9, "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_MONTH_RE = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
             r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
DATE_RE = re.compile(
    rf"(?P<md>(?P<m1>{_MONTH_RE})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?)"
    rf"|(?P<dm>(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH_RE})(?:,?\s+(?P<y2>\d{{4}}))?)"
    r"|(?P<iso>(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))"
    r"|(?P<wd>\b(?:on\s+|last\s+|this\s+)?(?P<day>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"(?:\s+(?:morning|afternoon|evening|night))?\b)"
    r"|(?P<rel>\b(?:yesterday|today|tonight|last night|this morning|this week|last week)\b)"
    rf"|(?P<mo>\b(?:(?:early|mid|late)[- ])?(?P<m4>January|February|March|April|June|July|August|"
    r"September|October|November|December)(?:\s+(?P<y4>\d{4}))?\b)",
    re.IGNORECASE,
)


def _month_number(token: str) -> int | None:
    token = token.lower().rstrip(".")
    return MONTHS.get(token) or MONTH_ABBR.get(token)


def _inside_date(text: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in DATE_RE.finditer(text)
               if m.group("md") or m.group("dm") or m.group("iso") or m.group("mo"))


def find_dates(text: str, reference: date | None = None) -> list[Cue]:
    """Dates with an ISO value when it can be pinned down (weekdays resolved against `reference`)."""
    cues = []
    for m in DATE_RE.finditer(text):
        value: dict[str, Any] = {}
        year = reference.year if reference else None
        if m.group("md") or m.group("dm"):
            month = _month_number(m.group("m1") or m.group("m2"))
            day = int(m.group("d1") or m.group("d2"))
            year = int(m.group("y1") or m.group("y2") or 0) or year
            if month is None or not 1 <= day <= 31:
                continue
            value = {"month": month, "day": day}
            if year:
                try:
                    value["iso"] = date(year, month, day).isoformat()
                except ValueError:
                    continue
        elif m.group("iso"):
            try:
                value = {"iso": date(int(m.group("y3")), int(m.group("m3")),
                                     int(m.group("d3"))).isoformat()}
            except ValueError:
                continue
        elif m.group("wd"):
            weekday = WEEKDAYS[m.group("day").lower()]
            value = {"weekday": m.group("day").capitalize()}
            if reference:
                delta = (reference.weekday() - weekday) % 7
                value["iso"] = (reference - timedelta(days=delta)).isoformat()
        elif m.group("rel"):
            word = m.group("rel").lower()
            value = {"relative": word}
            if reference and word in ("yesterday", "last night"):
                value["iso"] = (reference - timedelta(days=1)).isoformat()
            elif reference and word in ("today", "tonight", "this morning"):
                value["iso"] = reference.isoformat()
        elif m.group("mo"):
            month = _month_number(m.group("m4"))
            if m.group("m4").lower() == "may" and not m.group("y4"):
                continue  # the verb "may"
            value = {"month": month}
            if m.group("y4"):
                value["year"] = int(m.group("y4"))
            part = m.group("mo").lower()
            value["part"] = "early" if part.startswith("early") else (
                "mid" if part.startswith("mid") else ("late" if part.startswith("late") else None))
        start, end = m.span()
        span_text = text[start:end]
        if span_text.lower().startswith("on "):
            start += 3
            span_text = text[start:end]
        cues.append(Cue(CueType.DATE, start, end, span_text, value))
    return cues


# ------------------------------------------------------------------------------ places and entities

_PLACE_PREP = re.compile(
    r"\b(?:in|near|outside|at|from|into|towards?|around|of|across|to)\s+"
    r"(?:the\s+)?(?:(?:village|town|city|port|region|district)\s+of\s+)?"
    r"(?P<name>[A-Z][\w'ʼ’-]+(?:\s+[A-Z][\w'ʼ’-]+){0,2})"
)
_CAPSEQ = re.compile(r"(?<![\w'ʼ’])(?:[A-ZА-ЯЁІЇЄҐ][\w'ʼ’.-]*)(?:\s+(?:of\s+the\s+|of\s+|the\s+|de\s+|al-)?"
                     r"[A-ZА-ЯЁІЇЄҐ][\w'ʼ’-]*)*")
_NOT_NAMES = {
    "The", "A", "An", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "In", "On",
    "At", "But", "And", "Or", "However", "Meanwhile", "According", "Despite", "While", "As", "After",
    "Before", "When", "Since", "Its", "His", "Her", "Their", "Our", "There", "Here", "If", "For", "By",
    "With", "From", "Some", "Many", "Most", "Other", "Others", "Additionally", "Also", "Still", "Yet",
    "Although", "Both", "Earlier", "Later", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December", "Nov", "Oct", "Dec", "Mr", "Mrs", "Ms", "Dr",
    "No", "Not", "Over", "About", "More", "Less", "Russian", "Ukrainian", "Western", "Asked", "Under",
    "Independent", "Neither", "Reuters", "Two", "Three", "One", "Four", "Five", "Several", "Among",
    "Speaking", "Officials", "Local", "Residents", "What", "Why", "How", "Who", "Where", "Everything",
}
_PLACE_HINT_WORDS = {"region", "oblast", "district", "river", "port", "village", "town", "city",
                     "bay", "valley", "county", "province", "bridge", "station", "square", "street"}


def find_places_and_entities(text: str) -> list[Cue]:
    gaz = gazetteer()
    cues: list[Cue] = []
    taken: list[tuple[int, int]] = []
    for m in gaz.pattern.finditer(text):
        cues.append(Cue(CueType.PLACE, m.start(), m.end(), m.group(0),
                        {"canonical": canonical_name(m.group(0))}))
        taken.append(m.span())
    place_spans = {m.span("name") for m in _PLACE_PREP.finditer(text)}
    for m in _CAPSEQ.finditer(text):
        start, end = m.span()
        name = m.group(0).rstrip(".")
        end = start + len(name)
        words = name.split()
        while words and words[0] in _NOT_NAMES:
            start += len(words[0]) + 1 if len(words) > 1 else len(words[0])
            words = words[1:]
        if not words:
            continue
        name = text[start:end]
        if any(s < end and start < e for s, e in taken):
            continue
        if len(name) < 2 or (name.isupper() and len(name) <= 1):
            continue
        if start == 0 and len(words) == 1 and not _known_name(name):
            continue  # a capitalised first word is usually just the start of the sentence
        is_place = (any((s <= start and end <= e) or (start <= s and e <= end) for s, e in place_spans)
                    and not _looks_like_org(name)) or words[-1].lower() in _PLACE_HINT_WORDS
        kind = CueType.PLACE if is_place else CueType.ENTITY
        cues.append(Cue(kind, start, end, name, {"canonical": canonical_name(name)}))
        taken.append((start, end))
    return cues


def _known_name(name: str) -> bool:
    return _fold(name) in gazetteer().canonical_by_variant


_ORG_WORDS = {"ministry", "staff", "agency", "army", "forces", "brigade", "command", "council",
              "union", "office", "service", "company", "authority", "government", "committee",
              "department", "police", "guard", "news", "wire", "herald", "observer", "press"}


def _looks_like_org(name: str) -> bool:
    return any(w.lower().strip(".,") in _ORG_WORDS for w in name.split())


# ------------------------------------------------------------------------------------ attributions

_SOURCE_AFTER = re.compile(
    r"\s*(?P<src>(?:the\s+)?(?:[A-ZА-ЯЁІЇЄҐ][\w'ʼ’.-]*|[a-z]+(?=\s+[A-Z]))(?:\s+(?:of\s+the\s+|of\s+|the\s+|and\s+)?"
    r"[A-ZА-ЯЁІЇЄҐ][\w'ʼ’.-]*)*|(?:the\s+|a\s+|an\s+)?(?:[a-z-]+\s+){0,3}(?:officials?|sources?|spokes(?:man|woman|person)|"
    r"governor|ministry|military|army|agency|authorities|residents?|analysts?|commander|police|union|"
    r"management|company|witnesses|experts?|mayor|statement|media|observers?))"
)
_SOURCE_BEFORE = re.compile(
    r"(?P<src>(?:the\s+|a\s+|an\s+)?(?:[A-ZА-ЯЁІЇЄҐ][\w'ʼ’.-]*(?:\s+(?:of\s+the\s+|of\s+|the\s+)?"
    r"[A-ZА-ЯЁІЇЄҐ][\w'ʼ’.-]*)*|(?:[a-z-]+\s+){0,3}(?:officials?|sources?|spokes(?:man|woman|person)|"
    r"governor|ministry|military|army|agency|authorities|residents?|analysts?|commander|police|union|"
    r"management|company|witnesses|experts?|mayor|he|she|they|it)))\s*,?\s*$"
)


def find_attributions(text: str, lex: Lexicon) -> list[Cue]:
    cues = []
    if lex.attribution_markers:
        for m in lex.attribution_markers.finditer(text):
            src = _SOURCE_AFTER.match(text, m.end())
            source = src.group("src").strip() if src else None
            end = src.end() if src else m.end()
            cues.append(_attribution(text, m.start(), end, source))
    if lex.attribution_verbs:
        for m in lex.attribution_verbs.finditer(text):
            if any(c.start <= m.start() < c.end for c in cues):
                continue
            verb = m.group(0).lower()
            source = None
            start, end = m.start(), m.end()
            after = _SOURCE_AFTER.match(text, m.end())
            before = _SOURCE_BEFORE.search(text[max(0, m.start() - 80):m.start()])
            if verb in ("told", "tells", "informed") and after:
                source = after.group("src").strip()
                end = after.end()
            elif before and before.group("src").strip().lower() not in ("he", "she", "they", "it"):
                source = before.group("src").strip()
                start = max(0, m.start() - 80) + before.start("src")
            elif after and verb in ("said", "says", "stated", "reported", "added", "noted", "wrote"):
                # inverted order: '..., said the governor'
                source = after.group("src").strip()
                end = after.end()
            cues.append(_attribution(text, start, end, source))
    return cues


def _attribution(text: str, start: int, end: int, source: str | None) -> Cue:
    while end > start and text[end - 1] in ".,;:!? ":
        end -= 1
    if source:
        source = source.strip().rstrip(".,;:!?")
    return Cue(CueType.ATTRIBUTION, start, end, text[start:end], None, source)


# ------------------------------------------------------------------------------------------ driver

def find_lexical(text: str, pattern: re.Pattern[str] | None, kind: CueType) -> list[Cue]:
    if pattern is None:
        return []
    return [Cue(kind, m.start(), m.end(), m.group(0), m.group(0).lower()) for m in pattern.finditer(text)]


def find_loaded(text: str, lex: Lexicon) -> list[Cue]:
    cues = []
    for frame, pattern in lex.loaded:
        for m in pattern.finditer(text):
            cues.append(Cue(CueType.LOADED, m.start(), m.end(), m.group(0), {"frame": frame}))
    return cues


def detect_cues(text: str, *, language: str = "en", reference: date | None = None) -> tuple[Cue, ...]:
    """All cues of one statement, sorted by position; overlapping cues of one type are merged."""
    lex = lexicon(language)
    cues: list[Cue] = []
    cues += find_lexical(text, lex.hedge, CueType.HEDGE)
    hedges = [c for c in cues if c.type == CueType.HEDGE]
    cues += [c for c in find_lexical(text, lex.negation, CueType.NEGATION)
             if not any(h.start <= c.start and c.end <= h.end for h in hedges)]
    cues += find_attributions(text, lex)
    cues += find_numbers(text)
    cues += find_dates(text, reference)
    cues += find_places_and_entities(text)
    cues += find_loaded(text, lex)
    if language[:2] != "en":  # Russian/Ukrainian numbers, dates, names, sources (issue 7)
        from compare import multilingual

        cues = multilingual.localise_cues(cues, text, language=language, reference=reference)
    return tuple(sorted(_dedupe(cues), key=lambda c: (c.start, c.end, c.type.value)))


def _dedupe(cues: list[Cue]) -> list[Cue]:
    """Drop a cue contained in a longer cue of the same type."""
    kept: list[Cue] = []
    for cue in sorted(cues, key=lambda c: (c.type.value, c.start, -(c.end - c.start))):
        if kept and kept[-1].type == cue.type and kept[-1].start <= cue.start and cue.end <= kept[-1].end:
            continue
        kept.append(cue)
    return kept


def reference_date(published: str | None) -> date | None:
    if not published:
        return None
    try:
        return datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(published[:10])
        except ValueError:
            return None
