"""Dates: absolute, relative and weekday dates resolved against the article's reference date."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from compare.cues.lexicon import NEAR_CHARS, _after, blank_before, ends_before
from compare.cues.numbers import number_value
from compare.model import Cue, CueType

# -------------------------------------------------------------------------------------------- dates

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
              "sept": 9, "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_MONTH_FULL = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_RE = (rf"(?:{_MONTH_FULL}|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|"
             r"DECEMBER|Jan\.?|Feb\.?|Mar\.|Apr\.?|Jun\.|Jul\.|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAYPART = r"(?:\s+(?:morning|afternoon|evening|night))?"
_YEAR = r"(?:1[6-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"(?P<dateline>^(?:[A-Z][A-Z'.-]+(?:\s+[A-Z][A-Z'.-]+)*),\s+(?P<dl_m>{_MONTH_RE})\s+(?P<dl_d>\d{{1,2}})(?!\d))"
    rf"|(?P<md>(?:(?P<wd1>{_WEEKDAY_RE}),?\s+)?(?P<m1>{_MONTH_RE})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
    rf"(?:,?\s+(?P<y1>{_YEAR})(?!\d))?)"
    rf"|(?P<dm>(?:(?P<wd2>{_WEEKDAY_RE}),?\s+)?(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?P<m2>{_MONTH_RE})(?:,?\s+(?P<y2>{_YEAR})(?!\d))?)"
    r"|(?P<iso>(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))"
    r"|(?P<us>(?P<m5>\d{1,2})/(?P<d5>\d{1,2})/(?P<y5>\d{4}))"
    rf"|(?P<my>(?:(?P<part2>early|mid|late|end\s+of)[- ])?(?P<m6>{_MONTH_FULL})\s+(?P<y6>{_YEAR})(?!\d))"
    rf"|(?P<wd>(?:(?P<rel_wd>last|next|this|coming)\s+)?(?P<day>{_WEEKDAY_RE})(?P<poss>['’]s)?{_DAYPART}\b)"
    r"|(?P<rel>\b(?i:yesterday|today|tonight|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening)|"
    r"(?:earlier|later)\s+this\s+(?:week|month|year)|(?:last|next|this|past)\s+(?:week|month|year|weekend)|"
    r"over\s+the\s+weekend|(?:a|one|two|three|four|five|six|seven|\d+)\s+(?:days?|weeks?)\s+(?:ago|earlier|later)|"
    r"(?:several\s+|a\s+few\s+)?weeks\s+(?:ago|earlier)|"
    r"the\s+day\s+before|a\s+day\s+(?:after|before|earlier|later)|overnight)\b)"
    rf"|(?P<mo>\b(?:(?P<part>early|mid|late)[- ])?(?P<m4>{_MONTH_FULL})\b)"
    rf"|(?P<yr>(?<![\w,.$€£-]){_YEAR}(?![\d,.]\d|\d|%))"
    r"|(?P<ord>\bthe\s+(?P<d4>[1-3]?\d)(?:st|nd|rd|th)\b(?!\s+[A-Z])(?!\s+(?:floor|century|anniversary|time|day|round|"
    r"brigade|army|division|largest|biggest|place)))",
)
_FUTURE = re.compile(r"\b(?:will|would|shall|is\s+due|are\s+due|due\s+to|expected|scheduled|set\s+to|plans?\s+to|"
                     r"is\s+to|are\s+to|forecast|until|next|coming|tomorrow|going\s+to|deadline|expires)\b",
                     re.IGNORECASE)
_REL_DAYS = {"yesterday": -1, "last night": -1, "today": 0, "tonight": 0, "this morning": 0,
             "this afternoon": 0, "this evening": 0, "tomorrow": 1, "the day before": -1}
_MONTH_CONTEXT = re.compile(r"\b(?:in|since|until|till|by|from|of|during|before|after|through|early|late|mid|"
                            r"last|next|this|between|and|or|to|end\s+of|start\s+of|beginning\s+of)[\s-]+$",
                            re.IGNORECASE)


_THE_BEFORE = re.compile(r"\b(?:The|the)\s+$")
_THE_LOWER_BEFORE = re.compile(r"\bthe\s+$", re.IGNORECASE)
_ON_BEFORE = re.compile(r"\b(?:on|late\s+on|early\s+on)\s+$", re.IGNORECASE)
_EDGE_BEFORE = re.compile(r"\b(end|start|beginning)\s+of\s+$", re.IGNORECASE)
_IN_BEFORE = re.compile(r"\b(?:in|In)\s+$")
_YEAR_CONTEXT = re.compile(r"\b(?:in|since|by|until|till|from|of|before|after|during|between|and|to|early|late|"
                           r"mid|end\s+of|start\s+of|spring|summer|autumn|fall|winter)[\s-]+$", re.IGNORECASE)


def _month_number(token: str) -> int | None:
    token = token.lower().rstrip(".")
    return MONTHS.get(token) or MONTH_ABBR.get(token)


def _iso(year: int | None, month: int, day: int) -> str | None:
    if not year:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _weekday_date(reference: date, weekday: int, future: bool, modifier: str | None) -> date:
    """The date a weekday names: the past one by default, the next one in future-tense statements."""
    modifier = (modifier or "").lower()
    back = (reference.weekday() - weekday) % 7
    forward = (weekday - reference.weekday()) % 7
    if modifier == "last":
        return reference - timedelta(days=back or 7)
    if modifier in ("next", "coming"):
        return reference + timedelta(days=forward or 7)
    if back == 0:
        return reference
    if future:
        return reference + timedelta(days=forward)
    return reference - timedelta(days=back)


def find_dates(text: str, reference: date | None = None) -> list[Cue]:
    """Dates with an ISO value when it can be pinned down (weekdays resolved against `reference`)."""
    cues = []
    year = reference.year if reference else None
    future: list[bool] = []  # whether the statement is about the future: searched once, when first needed
    for m in DATE_RE.finditer(text):
        value: dict[str, Any] = {}
        start, end = m.span()
        after = _after(text, end)
        if m.group("dateline"):
            month = _month_number(m.group("dl_m"))
            day = int(m.group("dl_d"))
            if month is None:
                continue
            value = {"month": month, "day": day}
            if (iso := _iso(year, month, day)) is not None:
                value["iso"] = iso
        elif m.group("md") or m.group("dm"):
            month = _month_number(m.group("m1") or m.group("m2"))
            day = int(m.group("d1") or m.group("d2"))
            if month is None or not 1 <= day <= 31:
                continue
            if m.group("md") and ends_before(_THE_BEFORE, text, start, NEAR_CHARS) and re.match(r"\s+[A-Z]", after):
                continue  # "The April 6 Youth Movement"
            if (m.group("m1") or "").lower() == "may" and not re.match(r"\s+\d", _after(text, m.start("m1") + 3)):
                continue
            y = int(m.group("y1") or m.group("y2") or 0) or year
            value = {"month": month, "day": day}
            if (iso := _iso(y, month, day)) is not None:
                value["iso"] = iso
            if m.group("wd1") or m.group("wd2"):
                value["weekday"] = (m.group("wd1") or m.group("wd2")).capitalize()
        elif m.group("iso"):
            iso = _iso(int(m.group("y3")), int(m.group("m3")), int(m.group("d3")))
            if iso is None:
                continue
            value = {"iso": iso}
        elif m.group("us"):
            iso = _iso(int(m.group("y5")), int(m.group("m5")), int(m.group("d5")))
            if iso is None:
                continue
            value = {"iso": iso}
        elif m.group("my"):
            value = {"month": _month_number(m.group("m6")), "year": int(m.group("y6"))}
        elif m.group("wd"):
            if re.match(r"\s+(?:[A-Z][a-z]+)", after) and not re.match(
                    r"\s+(?:Morning|Afternoon|Evening|Night)\b", after):
                continue  # "The Sunday Times", "the Tuesday Group"
            weekday = WEEKDAYS[m.group("day").lower()]
            value = {"weekday": m.group("day").capitalize()}
            if reference:
                if not future:
                    future.append(bool(_FUTURE.search(text)))
                value["iso"] = _weekday_date(reference, weekday, future[0], m.group("rel_wd")).isoformat()
            on = ends_before(_ON_BEFORE, text, start, NEAR_CHARS)
            if on and blank_before(text, on.start()):
                start = on.start()
        elif m.group("rel"):
            word = re.sub(r"\s+", " ", m.group("rel").lower())
            if word == "today" and (ends_before(_THE_LOWER_BEFORE, text, start, NEAR_CHARS) or (text[start].isupper()
                                    and re.match(r"\s+[a-z]+\s+(?:programme|show)", after))):
                continue
            value = {"relative": word}
            ago = re.match(r"(\w+) days? (ago|earlier)", word)
            weeks = re.match(r"(?:(\w+) )?weeks? (?:ago|earlier)$", word)
            if reference and weeks and weeks.group(1) not in ("several", "few"):
                # "two weeks ago": that week, give or take a few days; "weeks ago": at least a week back
                n = number_value(weeks.group(1)) if weeks.group(1) not in (None, "a", "one") else 1
                if weeks.group(1) is None:
                    value["to"] = (reference - timedelta(days=7)).isoformat()
                elif n:
                    value["from"] = (reference - timedelta(days=7 * int(n) + 3)).isoformat()
                    value["to"] = (reference - timedelta(days=7 * int(n) - 3)).isoformat()
            elif reference and weeks:
                value["to"] = (reference - timedelta(days=7)).isoformat()
            elif reference and re.fullmatch(r"(?:last|this|past|next|earlier\s+this|later\s+this)\s+week", word):
                # the calendar week (Monday to Sunday) it names
                monday = reference - timedelta(days=reference.weekday())
                shift = {"last": -7, "next": 7}.get(word.split()[0], 0)
                first = monday + timedelta(days=shift)
                last = first + timedelta(days=6)
                if word.startswith("earlier"):
                    last = reference
                elif word.startswith("later"):
                    first = reference
                elif word.startswith("past"):
                    first, last = reference - timedelta(days=7), reference
                value.update({"from": first.isoformat(), "to": last.isoformat()})
            elif reference and word in _REL_DAYS:
                value["iso"] = (reference + timedelta(days=_REL_DAYS[word])).isoformat()
            elif reference and ago:
                n = number_value(ago.group(1)) or (1 if ago.group(1) in ("a", "one") else None)
                if n:
                    value["iso"] = (reference - timedelta(days=int(n))).isoformat()
            elif reference and word in ("earlier this month", "later this month", "this month"):
                value.update(month=reference.month, year=reference.year)
            elif reference and word == "last month":
                previous = reference.replace(day=1) - timedelta(days=1)
                value.update(month=previous.month, year=previous.year)
            elif reference and word == "last year":
                value["year"] = reference.year - 1
            elif reference and word == "next year":
                value["year"] = reference.year + 1
        elif m.group("mo"):
            month_word = m.group("m4")
            if not (m.group("part") or ends_before(_MONTH_CONTEXT, text, start, NEAR_CHARS)):
                continue  # "May" the verb or a name, "March" the walk, "June Harper"
            if re.match(r"\s+[A-Z][a-z]", after) and not m.group("part"):
                continue
            value = {"month": _month_number(month_word)}
            part = m.group("part")
            value["part"] = part.lower() if part else None
            edge = ends_before(_EDGE_BEFORE, text, start, NEAR_CHARS)
            if edge and not part:
                value["part"] = "late" if edge.group(1).lower() == "end" else "early"  # "at the end of February"
        elif m.group("yr"):
            if not ends_before(_YEAR_CONTEXT, text, start, NEAR_CHARS):
                continue
            if re.match(r"\s+(?:people|residents|members|workers|troops|soldiers|homes|votes)\b", after):
                continue
            value = {"year": int(m.group("yr"))}
            prep = ends_before(_IN_BEFORE, text, start, NEAR_CHARS)
            if prep and blank_before(text, prep.start()):
                start = prep.start()
        elif m.group("ord"):
            day = int(m.group("d4"))
            if not 1 <= day <= 31:
                continue
            value = {"day": day}
            if reference and (iso := _iso(reference.year, reference.month, day)) is not None:
                value["iso"] = iso
        span_text = text[start:end]
        if span_text.lower().startswith("on ") and not blank_before(text, m.start()):
            start += 3
            span_text = text[start:end]
        cues.append(Cue(CueType.DATE, start, end, span_text, value))
    return cues
