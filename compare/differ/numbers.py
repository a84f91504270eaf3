"""Numbers and dates: figures in the same unit, and dates or times of day, that disagree."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from datetime import date, timedelta

from compare.differ.common import Sides, cue_conflict, cues_of, make_difference, quoted, statement_evidence
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Event,
    Statement,
)

_MEASURES = {"%", "pp", "km", "km/h", "km2", "m", "m3", "cm", "mm", "mile", "hectare", "tonne", "kg", "degree",
             "USD", "EUR", "GBP", "crown", "hryvnia", "rouble", "hour", "day", "week", "month", "year", "minute"}

# Counted nouns that name one kind of thing: "12 civilians" and "15 people", "17 ships" and "20 vessels".
_SAME_COUNT = {
    **dict.fromkeys(("people", "person", "persons", "civilian", "resident", "inhabitant", "individual", "человек",
                     "людей", "осіб", "людина", "мирних", "жителей", "жителів"), "person"),
    **dict.fromkeys(("ship", "vessel", "boat", "судно", "судов", "суден", "корабель"), "vessel"),
    **dict.fromkeys(("soldier", "troop", "serviceman", "военнослужащих", "військових", "солдат"), "soldier"),
    **dict.fromkeys(("house", "home", "household", "dwelling", "домов", "будинків", "домохозяйств"), "home"),
}


def _unit_class(cue: Cue) -> str | None:
    """What a figure counts or measures: a measure compares only with the same measure, a count only with
    a count of the same noun ("26 people" vs "27 people", not "26 people" vs "19 hijackers"); a bare number
    ("12", a score, a clock time) says too little to conflict with anything."""
    unit = (cue.value or {}).get("unit") if isinstance(cue.value, dict) else None
    if unit in _MEASURES:
        return str(unit)
    return f"count:{_SAME_COUNT.get(str(unit), unit)}" if unit else None


def _number_key(cue: Cue) -> str | None:
    value = cue.value if isinstance(cue.value, dict) else {}
    unit = _unit_class(cue)
    if value.get("value") is None or unit is None:
        return None
    return f"{value.get('value')}|{unit}"


def _has_unit(unit: str, statement: Statement, cue: Cue) -> bool:
    return _unit_class(cue) == unit


def detect_number(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Conflicting quantities of the same kind ("over 80%" vs "about 70%", "12 civilians" vs "15 people")."""
    differences = []
    classes = {_unit_class(c) for st in sides.values() for s in st for c in s.cues if c.type == CueType.NUMBER}
    for unit in sorted(u for u in classes if u is not None):
        differences += cue_conflict(sides, CueType.NUMBER, DifferenceType.NUMBER, event, outlets, _number_key,
                                 "figures" + (f" ({unit})" if not unit.startswith("count:") else ""),
                                 keep=functools.partial(_has_unit, unit))
    return differences


def _date_facts(cue: Cue) -> tuple[str | None, str | None, str | None]:
    """(day, month, weekday) a date cue pins down, each None when it does not."""
    value = cue.value if isinstance(cue.value, dict) else {}
    iso = value.get("iso")
    day = str(iso) if iso else None
    month = str(iso)[:7] if iso else None
    if month is None and value.get("month") and value.get("year"):
        month = f"{value['year']}-{int(value['month']):02d}"
    elif month is None and value.get("month") and not value.get("day"):
        month = f"?-{int(value['month']):02d}"
    weekday = value.get("weekday")
    return day, month, weekday


_PART_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}


def _interval(cue: Cue, year_hint: int | None) -> tuple[date, date] | None:
    """The days a date cue allows, when it pins them down: a day, a week ("last week"), "weeks ago" (any
    day up to a week back), or a month or part of one ("at the end of February"; the year from the other
    date when the cue has none)."""
    value = cue.value if isinstance(cue.value, dict) else {}
    if value.get("iso"):
        day = date.fromisoformat(str(value["iso"]))
        return day, day
    if value.get("to"):
        return date.fromisoformat(str(value.get("from") or "0001-01-01")), date.fromisoformat(str(value["to"]))
    month, year = value.get("month"), value.get("year") or year_hint
    if month and year and not value.get("day"):
        last = (date(int(year) + int(month) // 12, int(month) % 12 + 1, 1) - timedelta(days=1)).day
        lo, hi = _PART_DAYS.get(str(value.get("part") or ""), (1, last))
        return date(int(year), int(month), lo), date(int(year), int(month), min(hi, last))
    return None


def _dates_compatible(a: Cue, b: Cue) -> bool | None:
    """True/False when two dates can be compared and agree/disagree; None when they cannot be compared."""
    da, ma, wa = _date_facts(a)
    db, mb, wb = _date_facts(b)
    if da and db:
        return da == db
    if wa and wb:
        return wa == wb
    ia = _interval(a, int(db[:4]) if db else None)
    ib = _interval(b, int(da[:4]) if da else None)
    if ia and ib and (ia[0] != ia[1] or ib[0] != ib[1]):
        return ia[0] <= ib[1] and ib[0] <= ia[1]
    if ma and mb:
        if ma.startswith("?") or mb.startswith("?"):
            return ma[-2:] == mb[-2:]
        return ma == mb
    return None


# Times of day, as hour ranges ("shortly after 3am" against "on Saturday afternoon").
_DAYPART_HOURS = {"morning": (5, 12), "midday": (11, 14), "noon": (11, 14), "afternoon": (12, 18),
                  "evening": (17, 23), "nightfall": (17, 22), "night": (21, 30), "overnight": (21, 30),
                  "dawn": (4, 8), "dusk": (17, 21)}

_DAYPART = re.compile(r"(?<![\w-])(?:(?P<part>morning|midday|noon|afternoon|evening|nightfall|night|overnight|dawn|"
                      r"dusk)|(?P<hour>\d{1,2})(?::(?P<min>\d\d))?\s?(?P<ampm>[ap])\.?m\b\.?)", re.IGNORECASE)

# "By Monday evening, 14 ships were waiting": the time a figure was taken, not when the event happened.
_SNAPSHOT = re.compile(r"\b(?:by|as\s+of)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _snapshot(statement: Statement, start: int) -> bool:
    return bool(_SNAPSHOT.search(statement.text[:start]))


def _dayparts(statement: Statement) -> list[tuple[int, int, str, tuple[int, int]]]:
    """(start, end, text, hours) of each time of day an English statement gives for its event."""
    if statement.language[:2] != "en":
        return []
    out = []
    for m in _DAYPART.finditer(statement.text):
        if _snapshot(statement, m.start()):
            continue
        if m.group("part"):
            if m.group("part").lower() == "night" and re.search(r"\bthe\s+$", statement.text[:m.start()]) and \
                    re.search(r"\bspent\s+the\s+$", statement.text[:m.start()]):
                continue  # "spent the night": a duration
            hours = _DAYPART_HOURS[m.group("part").lower()]
        else:
            hour = int(m.group("hour")) % 12 + (12 if m.group("ampm").lower() == "p" else 0)
            hours = (hour, hour + 1)
        out.append((m.start(), m.end(), m.group(0), hours))
    return out


def _hours_agree(x: tuple[int, int], y: tuple[int, int]) -> bool:
    """Whether two hour ranges overlap (a range past 24 wraps into the next morning)."""
    def spans(r: tuple[int, int]) -> list[tuple[int, int]]:
        return [r, (r[0] - 24, r[1] - 24)] if r[1] > 24 else [r, (r[0] + 24, r[1] + 24)]
    return any(a[0] < b[1] and b[0] < a[1] for a in spans(x) for b in spans(y))


def detect_date(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Dates that disagree where both outlets pin them down to the same precision ("Monday" vs
    "Nov. 20" resolved against each article's date; "earlier this month" vs "in late October")."""
    dated = {d: [(s, c) for s, c in cues_of(st, CueType.DATE) if not _snapshot(s, c.start)] for d, st in sides.items()}
    docs = sorted(d for d, cues in dated.items() if cues)
    involved: dict[str, list[tuple[Statement, Cue]]] = defaultdict(list)
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            verdicts = [(x, y, _dates_compatible(x[1], y[1])) for x in dated[a] for y in dated[b]]
            agree_a = {id(x[1]) for x, _, v in verdicts if v}
            agree_b = {id(y[1]) for _, y, v in verdicts if v}
            clash = [(x, y) for x, y, v in verdicts if v is False and id(x[1]) not in agree_a
                     and id(y[1]) not in agree_b]
            for x, y in clash:
                if x not in involved[a]:
                    involved[a].append(x)
                if y not in involved[b]:
                    involved[b].append(y)
    # Times of day: both outlets give one for the event, and they cannot be the same hour.
    hours = {d: [(s, h) for s in st for h in _dayparts(s)] for d, st in sides.items()}
    timed = sorted(d for d in hours if hours[d])
    for i, a in enumerate(timed):
        for b in timed[i + 1:]:
            if any(_hours_agree(x[1][3], y[1][3]) for x in hours[a] for y in hours[b]):
                continue
            for doc in (a, b):
                for s, (start, end, text, _) in hours[doc]:
                    cue = Cue(CueType.DATE, start, end, text, {"time": text})
                    if (s, cue) not in involved[doc]:
                        involved[doc].append((s, cue))
    if not involved:
        return []
    evidence = [statement_evidence(s, c) for d in sorted(involved) for s, c in involved[d]]
    parts = [f"{outlets[d]}: {quoted(involved[d])}" for d in sorted(involved)]
    return [make_difference(DifferenceType.DATE, event, sorted(involved), evidence, "dates differ — " + "; ".join(parts)
                        + ".")]
