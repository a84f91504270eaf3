"""Type the differences between the statements of each event, with evidence spans on every side.

Each detector compares the cues (see `cues.py`) that the outlets' statements in one event carry and
returns at most one Difference of its type per event (per unit, for numbers). Omissions come from
coverage: an event some outlets carry and others do not, and factual statements only one outlet has.
Word-level highlights mark what a statement says that its counterparts do not.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache

from compare.cues.lexicon import lexicon
from compare.cues.names import name_key
from compare.cues.phrases import Location, compatible, contrast_spans, find_actors, find_locations, find_roles
from compare.cues.wording import framing_terms
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Document,
    Event,
    Evidence,
    Highlight,
    Statement,
    StatementRef,
)

FACTUAL_CUES = {CueType.NUMBER, CueType.DATE, CueType.PLACE, CueType.ENTITY}

# Per outlet: its statements in the event.
Sides = dict[str, list[Statement]]


def _cues(statements: Iterable[Statement], kind: CueType) -> list[tuple[Statement, Cue]]:
    return [(s, c) for s in statements for c in s.cues if c.type == kind]


def _evidence(statement: Statement, cue: Cue | None = None) -> Evidence:
    if cue is None:
        return Evidence(statement.doc_id, statement.index, statement.start, statement.end, statement.text)
    return Evidence(statement.doc_id, statement.index, statement.start + cue.start,
                    statement.start + cue.end, cue.text)


def _quoted(cues: Sequence[tuple[Statement, Cue]]) -> str:
    seen: list[str] = []
    for _, c in cues:
        if c.text not in seen:
            seen.append(c.text)
    return ", ".join(f"“{t}”" for t in seen)


def _key(cue: Cue) -> str:
    value = cue.value if isinstance(cue.value, dict) else {}
    return name_key(str(value.get("canonical") or cue.text))


def _inside(cue: Cue, others: Iterable[Cue]) -> bool:
    return any(o.start <= cue.start and cue.end <= o.end for o in others)


def _presence(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], verb: str,
              keep: Callable[[Statement, Cue], bool] = lambda s, c: True) -> list[Difference]:
    """Some outlets' statements carry a cue of `kind`, others' do not."""
    with_cue = {d: [(s, c) for s, c in _cues(st, kind) if keep(s, c)] for d, st in sides.items()}
    carrying = sorted(d for d, cues in with_cue.items() if cues)
    silent = sorted(d for d, cues in with_cue.items() if not cues)
    if not carrying or not silent:
        return []
    evidence = [_evidence(s, c) for d in carrying for s, c in with_cue[d]]
    evidence += [_evidence(s) for d in silent for s in sides[d]]
    words = "; ".join(f"{outlets[d]}: {_quoted(with_cue[d])}" for d in carrying)
    explanation = (f"{words} — {verb}; " + ", ".join(outlets[d] for d in silent)
                   + (" states" if len(silent) == 1 else " state") + " it without that.")
    return [_difference(dtype, event, carrying + silent, evidence, explanation)]


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
    return _presence(sides, CueType.HEDGE, DifferenceType.HEDGING, event, outlets, "hedged", _real_hedge)


# "without power", "nor"; Russian/Ukrainian "без" (without).
_NOT_DENIALS = {"without", "nor", "без"}
# The content of a demand or assurance ("a promise that automation would not cost a single job", "a
# guarantee that no jobs would be lost") is what someone asks for, not a negated fact.
_ASSURANCE = re.compile(r"\b(?:promise|promises|guarantee|guarantees|assurance|assurances|pledge|pledges|commitment|"
                        r"demand|demands|undertaking|vow)\s+that\b[^,;.]*$", re.IGNORECASE)


# "..., a claim the operator denied": another party's rebuttal appended to the outlet's report.
_REBUTTAL = re.compile(r",\s*(?:a|the)\s+claims?\s+(?:that\s+)?(?!could|can|was|has|is)[^,.;]*", re.IGNORECASE)


def _in_rebuttal(statement: Statement, start: int) -> bool:
    return any(m.start() <= start < m.end() for m in _REBUTTAL.finditer(statement.text))


def _real_negation(statement: Statement, cue: Cue) -> bool:
    """A negation of the event: not one inside a hedge ("could not be verified"), not "without power",
    not inside the content of a promise or demand, not another party's rebuttal ("a claim X denied")."""
    hedges = [c for c in statement.cues if c.type == CueType.HEDGE]
    if _inside(cue, hedges) or cue.text.lower() in _NOT_DENIALS or _in_rebuttal(statement, cue.start):
        return False
    return not _ASSURANCE.search(statement.text[:cue.start])


def detect_negation(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return _presence(sides, CueType.NEGATION, DifferenceType.NEGATION, event, outlets,
                     "denied or negated", _real_negation)


_GENERIC_SOURCE_WORDS = {"the", "a", "an", "of", "for", "from", "in", "at", "its", "their", "his", "her",
                         "provisional", "figures", "official", "officials", "statement", "sources", "source",
                         "spokesman", "spokeswoman", "spokesperson", "press", "service", "update", "evening",
                         "morning", "daily", "latest", "own", "local", "senior", "unnamed", "reportedly",
                         "allegedly", "also", "в", "у", "по", "за", "данным", "даними", "словам", "словами"}
# Pronouns say nothing about who the source is (English, Russian, Ukrainian).
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you", "this", "that", "он", "она", "они", "оно", "мы", "я",
             "він", "вона", "вони", "воно", "ми"}
# The outlet speaking in its own voice ("By our assessment", "we geolocated it", "We estimate") cites itself.
_FIRST_PERSON = re.compile(r"(?<![\w'’])(?:we|our|us)(?![\w'’])", re.IGNORECASE)
_OWN_VOICE = frozenset({"\x00outlet"})


@lru_cache(maxsize=1)
def _source_aliases() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(actor, pattern) per `[[source]]` entry of the English lexicon (aliases in any language)."""
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("compare.lexicons").joinpath("en.toml").read_text("utf-8"))
    out = []
    for entry in data.get("source", []):
        aliases = sorted({a for a in entry.get("aliases", []) if a.strip()}, key=len, reverse=True)
        if aliases:
            body = "|".join(r"\s+".join(re.escape(w) for w in a.split()) for a in aliases)
            out.append((entry["actor"], re.compile(rf"(?<![\w'’ʼ-])(?:{body})\w{{0,3}}(?![\w])", re.IGNORECASE)))
    return tuple(out)


def _actors(text: str) -> frozenset[str]:
    """Actors a source or a statement names under any of their aliases ("Moscow" -> Russian state)."""
    return frozenset(actor for actor, pattern in _source_aliases() if pattern.search(text))


def _source_tokens(cue: Cue) -> frozenset[str]:
    source = (cue.source or "").lower()
    source = re.sub(r"['’]s\b", "", source)
    return frozenset(w for w in re.findall(r"[\w-]+", source) if w not in _GENERIC_SOURCE_WORDS)


def _known_source(cue: Cue) -> bool:
    tokens = _source_tokens(cue)
    return bool(tokens) and not tokens <= _PRONOUNS


def _same_source(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a & b) or a <= b or b <= a


SourceKey = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _source_names(source: str) -> frozenset[str]:
    """Proper names inside a cited source ("the rail operator Northline Freight" -> {"northline freight"})."""
    names = re.findall(r"(?<![\w'’])[A-Z][\w'’-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'’-]*)*", source)
    return frozenset(name_key(re.sub(r"['’]s$", "", n)) for n in names
                     if n not in ("The", "A", "An", "According") and n.lower() not in _PRONOUNS)


def _source_key(cue: Cue) -> SourceKey:
    """(content words, actors, proper names) of a cited source."""
    return _source_tokens(cue), _actors(cue.source or ""), _source_names(cue.source or "")


def _keys_agree(x: SourceKey, y: SourceKey) -> bool:
    """One source under two descriptions: a shared actor, or shared words — unless both name their source
    and the names differ ("the rail operator Northline Freight" is not "a report by the Rail Accident Branch",
    though both say "rail")."""
    if x[1] & y[1]:
        return True
    if x[2] and y[2] and not (x[2] & y[2]) and not any(a in b or b in a for a in x[2] for b in y[2]):
        return False
    return _same_source(x[0], y[0])


def _names_source(statements: Sequence[Statement], key: SourceKey) -> bool:
    """Whether an outlet's unattributed statement names the cited source as the actor ("Ukraine's General
    Staff rejected the claim" against "Ukraine's General Staff has denied", "Кремль називає" against
    "Moscow has described"): it reports what the source did, not a bare fact."""
    tokens, actors, _ = key
    for statement in statements:
        words = {w for w in re.findall(r"[\w-]+", re.sub(r"['’]s\b", "", statement.text.lower()))}
        if tokens and tokens <= words:
            return True
        if actors & _actors(statement.text):
            return True
    return False


def detect_attribution(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Outlets attribute the claim to different sources.

    Sources compare by their content words ("the Aske River Authority" and "provisional figures from
    the Aske River Authority" are one source) and by the actor they name (`[[source]]` in en.toml: "Moscow",
    "Russia's Defence Ministry", "Минобороны"); a pronoun or a verb without a subject says nothing. An
    outlet writing in its own voice ("we geolocated it") cites itself. A statement without any source is
    not compared: outlets often give the source in a neighbouring sentence ("..., the ministry said. It
    added that..."), which a statement-level comparison cannot see, so "one cites, one does not" was
    mostly wrong on the demo gold (a source in one outlet and none in another, where the other names that
    source as the actor, is never a difference: `_names_source`).
    """
    cited: dict[str, list[tuple[Statement, Cue]]] = {}
    own: dict[str, list[Statement]] = {}
    bare: set[str] = set()  # stays empty: see the docstring
    third: set[str] = set()
    for doc, statements in sides.items():
        cues = _cues(statements, CueType.ATTRIBUTION)
        known = [(s, c) for s, c in cues if _known_source(c)]
        voiced = [s for s in statements if _FIRST_PERSON.search(s.text) and not s.text.lstrip().startswith(("“", '"'))]
        if known:
            cited[doc] = known
        elif voiced:
            own[doc] = voiced
        elif cues:
            third.add(doc)  # "he said": someone other than the outlet, name unknown
    keys = {d: [_source_key(c) for _, c in cues] for d, cues in cited.items()}
    keys |= {d: [(_OWN_VOICE, frozenset(), frozenset())] for d in own}
    docs = sorted(set(keys) | bare)
    involved: set[str] = set()
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            if a in keys and b in keys:
                if not any(_keys_agree(x, y) for x in keys[a] for y in keys[b]):
                    involved |= {a, b}
            elif (a in keys) != (b in keys):
                source_doc, bare_doc = (a, b) if a in keys else (b, a)
                if not any(_names_source(sides[bare_doc], k) for k in keys[source_doc]):
                    involved |= {a, b}
    involved |= {d for d in third if own} | (set(own) if third else set())
    if not involved or not (involved & (set(keys) | third)):
        return []
    evidence = []
    parts = []
    for doc in sorted(involved):
        if doc in cited:
            evidence += [_evidence(s, c) for s, c in cited[doc]]
            sources = []
            for _, c in cited[doc]:
                if c.source and c.source not in sources:
                    sources.append(c.source)
            parts.append(f"{outlets[doc]} cites " + ", ".join(f"“{src}”" for src in sources))
        elif doc in own:
            evidence += [_evidence(s) for s in own[doc]]
            parts.append(f"{outlets[doc]} speaks in its own voice")
        elif doc in third:
            evidence += [_evidence(s, c) for s, c in _cues(sides[doc], CueType.ATTRIBUTION)]
            parts.append(f"{outlets[doc]} cites someone it does not name here")
        else:
            evidence += [_evidence(s) for s in sides[doc]]
            parts.append(f"{outlets[doc]} gives no source")
    return [_difference(DifferenceType.ATTRIBUTION, event, sorted(involved), evidence, "; ".join(parts) + ".")]


def _conflict(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], key: Callable[[Cue], str | None], noun: str,
              keep: Callable[[Statement, Cue], bool] = lambda s, c: True) -> list[Difference]:
    """Two outlets both give a value of `kind`, and each gives one the other does not."""
    values: dict[str, dict[str, list[tuple[Statement, Cue]]]] = {}
    for doc, statements in sides.items():
        found: dict[str, list[tuple[Statement, Cue]]] = defaultdict(list)
        for s, c in _cues(statements, kind):
            k = key(c)
            if k is not None and keep(s, c):
                found[k].append((s, c))
        if found:
            values[doc] = found
    docs = sorted(values)
    involved: set[str] = set()
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            only_a = set(values[a]) - set(values[b])
            only_b = set(values[b]) - set(values[a])
            if only_a and only_b:
                involved |= {a, b}
    if not involved:
        return []
    involved_docs = sorted(involved)
    shared = set.intersection(*(set(values[d]) for d in involved_docs))
    evidence = []
    parts = []
    for doc in involved_docs:
        own = [(s, c) for k, pairs in values[doc].items() if k not in shared for s, c in pairs]
        evidence += [_evidence(s, c) for s, c in own]
        parts.append(f"{outlets[doc]}: {_quoted(own)}")
    return [_difference(dtype, event, involved_docs, evidence, f"{noun} differ — " + "; ".join(parts) + ".")]


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
        differences += _conflict(sides, CueType.NUMBER, DifferenceType.NUMBER, event, outlets, _number_key,
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
    dated = {d: [(s, c) for s, c in _cues(st, CueType.DATE) if not _snapshot(s, c.start)] for d, st in sides.items()}
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
    evidence = [_evidence(s, c) for d in sorted(involved) for s, c in involved[d]]
    parts = [f"{outlets[d]}: {_quoted(involved[d])}" for d in sorted(involved)]
    return [_difference(DifferenceType.DATE, event, sorted(involved), evidence, "dates differ — " + "; ".join(parts)
                        + ".")]


def countries() -> set[str]:
    from compare.cues.names import countries as country_names

    return {name_key(n) for n in country_names()} | {name_key("Russia"), name_key("Ukraine")}


def _mention_text(statements: Sequence[Statement]) -> str:
    """The outlet's statements as one name-key string, without the stretches it names only to deny them
    ("rather than central Kupiansk"), plus the canonical keys of its name cues (other scripts)."""
    parts = []
    for s in statements:
        text = s.text
        for start, end in reversed(contrast_spans(text)):
            text = text[:start] + " " + text[end:]
        parts.append(name_key(text))
        parts += [_key(c) for c in s.cues if c.type in (CueType.PLACE, CueType.ENTITY)
                  and not any(a <= c.start < b for a, b in contrast_spans(s.text))]
    return " " + " | ".join(parts) + " "


def _words_of(statements: Sequence[Statement]) -> set[str]:
    from compare.cues.numbers import singular

    return {singular(w) for s in statements for w in re.findall(r"[\w'’-]+", s.text.lower())}


def detect_place(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Different places for the same event. Each outlet's location phrases ("off Cape Larrow", "from streets
    near the market square", "on the outskirts", "в центре Купянска"; `compare/cues/phrases.py`) are compared per
    pair of outlets: a location is disputed when the other outlet gives a location of the same level that
    cannot be the same place (another name, another kind of place, another part of it) and names it nowhere
    else (in any spelling or script; a place it names only to deny it does not count). Places that only
    describe another ("Kupiansk, a rail hub on the Oskil River"), capitals standing for governments and
    affiliations ("analysts at X") are not locations."""
    locations = {d: [(s, loc) for s in st for loc in find_locations(s.text, s.cues, s.language)]
                 for d, st in sides.items()}
    mentions = {d: _mention_text(st) for d, st in sides.items()}
    words = {d: _words_of(st) for d, st in sides.items()}

    def disputed(doc: str, other: str) -> list[tuple[Statement, Location]]:
        out = []
        theirs = [loc for _, loc in locations[other]]
        for s, loc in locations[doc]:
            same_level = [t for t in theirs if t.level == loc.level]
            if loc.generic or not same_level:
                continue
            if any(compatible(loc, t) and (loc.part is None or t.part == loc.part) for t in same_level):
                continue
            if loc.names and any(f" {n} " in mentions[other] or n in mentions[other] for n in loc.names):
                continue
            if not loc.names and loc.head and all(w in words[other] for w in loc.head.split()):
                continue
            out.append((s, loc))
        return out

    docs = sorted(d for d in locations if locations[d])
    involved: dict[str, list[tuple[Statement, Location]]] = defaultdict(list)
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            only_a, only_b = disputed(a, b), disputed(b, a)
            if only_a and only_b:
                for doc, own in ((a, only_a), (b, only_b)):
                    involved[doc] += [x for x in own if x not in involved[doc]]
    if not involved:
        return []
    evidence = [Evidence(s.doc_id, s.index, s.start + loc.start, s.start + loc.end, loc.text)
                for d in sorted(involved) for s, loc in involved[d]]
    parts = [f"{outlets[d]}: " + ", ".join(dict.fromkeys(f"“{loc.text}”" for _, loc in involved[d]))
             for d in sorted(involved)]
    return [_difference(DifferenceType.PLACE, event, sorted(involved), evidence,
                        "places differ — " + "; ".join(parts) + ".")]


def _entity_class(cue: Cue) -> str | None:
    """What kind of name a cue is, so that only names of one kind are compared: a person, or an
    organisation by its head noun ("union" and "federation" are both labour bodies)."""
    from compare.cues.numbers import singular
    from compare.cues.phrases import _words

    canonical = str((cue.value or {}).get("canonical") if isinstance(cue.value, dict) else "") or cue.text
    words = [w for w in re.findall(r"[\w'’-]+", canonical)]
    classes = _words().get("org_classes", {})
    for w in reversed(words):
        c = classes.get(singular(w.lower().rstrip("'’")))
        if c:
            return str(c)
    if len(words) >= 2 and all(w[:1].isupper() and w[1:].islower() for w in words) and cue.text.isascii():
        return "person"
    return None


# Words that say what kind of body a name is, not which one ("1st Guards Tank Army" vs "6th Combined Arms Army").
_CLASS_WORDS = frozenset({"army", "armi", "group", "forces", "force", "union", "federation", "brigade", "division",
                          "corps", "battalion", "regiment", "guards", "st", "nd", "rd", "th"})


def _specific_actors(text: str) -> frozenset[str]:
    """Actors named under an alias, less whole states ("Ukraine" says which side, not who)."""
    return frozenset(a for a in _actors(text) if not a.endswith(" state"))


def detect_entity(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Different people, units or organisations in the same role. Three comparisons per pair of outlets:
    who did it (agent phrases: "Police escorted" vs "Private security guards forced", "by police" vs "by
    volunteers from the Safe Road charity"; `compare/cues/phrases.py`), names of one kind ("1st Guards Tank
    Army" vs "6th Combined Arms Army"), and the title one person or body holds ("general secretary" vs
    "president" of the same union). Sources cited for a fact are attribution, not entity; the subject of a
    speech act that is the news ("denied", "praised") is an actor."""
    own_names = {name_key(n) for n in outlets.values()} | {
        "".join(w[0] for w in n.split() if w[:1].isupper()).lower() for n in outlets.values()}
    mentions = {d: _mention_text(st) for d, st in sides.items()}
    texts = {d: " ".join(s.text for s in st) for d, st in sides.items()}
    words = {d: _words_of(st) for d, st in sides.items()}
    # (class, key words, statement, start, end, text) per outlet
    Mention = tuple[str, frozenset[str], Statement, int, int, str]
    found: dict[str, list[Mention]] = defaultdict(list)
    for doc, statements in sides.items():
        for s in statements:
            for actor in find_actors(s.text, s.cues, s.language):
                if actor.key and not _in_rebuttal(s, actor.start):
                    found[doc].append(("agent", actor.key, s, actor.start, actor.end, actor.text))
            sources = [c for c in s.cues if c.type == CueType.ATTRIBUTION]
            places = find_locations(s.text, s.cues, s.language)
            for cue in s.cues:
                if cue.type != CueType.ENTITY or (cue.text.isupper() and cue.start == 0):
                    continue
                if any(src.start <= cue.start and cue.end <= src.end and "," not in s.text[src.start:cue.start]
                       for src in sources):
                    continue  # the cited source itself; its affiliation after a comma is kept ("X, head of Y,")
                if any(p.start <= cue.start < p.end for p in places):  # "on Fenwick Road": a place
                    continue
                if _key(cue) in own_names or cue.text.lower() in own_names:
                    continue
                kind = _entity_class(cue)
                key = frozenset(_key(cue).split()) - _CLASS_WORDS
                if kind and key and not any(m[2] is s and m[3] <= cue.start < m[4] for m in found[doc]):
                    found[doc].append((kind, key, s, cue.start, cue.end, cue.text))

    def covered(m: Mention, other: str) -> bool:
        kind, key = m[0], m[1]
        if any(k == kind and (key & k2) for k, k2, *_ in found[other]):
            return True
        if kind == "agent":
            return key <= words[other] or bool(_specific_actors(m[5]) & _specific_actors(texts[other]))
        return all(w in mentions[other] for w in key) or bool(_specific_actors(m[5]) & _specific_actors(texts[other]))

    involved: dict[str, list[Mention]] = defaultdict(list)
    docs = sorted(found)
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            for kind in sorted({m[0] for m in found[a]} & {m[0] for m in found[b]}):  # not set order: hash-seeded
                only_a = [m for m in found[a] if m[0] == kind and not covered(m, b)]
                only_b = [m for m in found[b] if m[0] == kind and not covered(m, a)]
                if only_a and only_b:
                    for doc, own in ((a, only_a), (b, only_b)):
                        involved[doc] += [m for m in own if m not in involved[doc]]
    # Titles: the same person or body, different titles.
    roles = {d: [(s, r) for s in st for r in find_roles(s.text, s.cues, s.language)] for d, st in sides.items()}
    docs = sorted(d for d in roles if roles[d])
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            for sa, ra in roles[a]:
                for sb, rb in roles[b]:
                    if ra.anchor & rb.anchor and ra.title != rb.title:
                        for doc, s, r in ((a, sa, ra), (b, sb, rb)):
                            m = ("role", r.title, s, r.start, r.end, r.text)
                            if m not in involved[doc]:
                                involved[doc].append(m)
    if not involved:
        return []
    evidence = [Evidence(s.doc_id, s.index, s.start + start, s.start + end, text)
                for d in sorted(involved) for _, _, s, start, end, text in involved[d]]
    parts = [f"{outlets[d]}: " + ", ".join(dict.fromkeys(f"“{m[5]}”" for m in involved[d])) for d in sorted(involved)]
    return [_difference(DifferenceType.ENTITY, event, sorted(involved), evidence,
                        "names differ — " + "; ".join(parts) + ".")]


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
    evidence = [_evidence(s, c) for d in involved for s, c in involved[d]]
    evidence += [_evidence(s) for d in whole - set(involved) for s in sides[d]]
    parts = [f"{outlets[d]}: {_quoted(involved[d])}" for d in sorted(involved)]
    plain = sorted(whole - set(involved))
    explanation = "framing terms differ — " + "; ".join(parts)
    if plain:
        explanation += "; " + ", ".join(outlets[d] for d in plain) + (" uses" if len(plain) == 1 else " use") \
            + " no such term"
    return [_difference(DifferenceType.WORDING, event, sorted(set(involved) | whole), evidence, explanation + ".")]


DETECTORS: tuple[Callable[[Event, Sides, dict[str, str]], list[Difference]], ...] = (
    detect_number, detect_date, detect_place, detect_entity, detect_attribution, detect_hedging,
    detect_negation, detect_wording,
)


def _difference(dtype: DifferenceType, event: Event | None, doc_ids: Sequence[str],
                evidence: Sequence[Evidence], explanation: str,
                missing: Sequence[str] = ()) -> Difference:
    return Difference(
        difference_id="",  # numbered once all differences are known
        type=dtype,
        event_id=event.event_id if event else None,
        doc_ids=tuple(sorted(set(doc_ids))),
        evidence=tuple(sorted(set(evidence), key=lambda e: (e.doc_id, e.index, e.start, e.end))),
        explanation=explanation,
        missing=tuple(sorted(missing)),
    )


def find_differences(documents: Sequence[Document], statements: Sequence[Statement],
                     events: Sequence[Event], unique: Sequence[StatementRef]) -> tuple[Difference, ...]:
    """All typed differences of a comparison, numbered D1.. in event order."""
    by_ref = {s.ref: s for s in statements}
    outlets = {d.doc_id: d.outlet for d in documents}
    all_docs = sorted(outlets)
    found: list[Difference] = []
    for event in events:
        sides: Sides = defaultdict(list)
        for ref in event.members:
            sides[ref.doc_id].append(by_ref[ref])
        sides = dict(sides)
        missing = [d for d in all_docs if d not in sides]
        if missing:
            evidence = [_evidence(s) for st in sides.values() for s in st]
            found.append(_difference(
                DifferenceType.OMISSION, event, sorted(sides) + missing, evidence,
                f"Reported by {', '.join(outlets[d] for d in sorted(sides))}; "
                f"not by {', '.join(outlets[d] for d in missing)}.",
                missing=missing,
            ))
        for detector in DETECTORS:
            found += detector(event, sides, outlets)
    for ref in unique:
        statement = by_ref[ref]
        if not any(c.type in FACTUAL_CUES for c in statement.cues):
            continue
        missing = [d for d in all_docs if d != ref.doc_id]
        found.append(_difference(
            DifferenceType.OMISSION, None, [ref.doc_id, *missing], [_evidence(statement)],
            f"Only {outlets[ref.doc_id]} reports this.", missing=missing,
        ))
    return tuple(
        Difference(f"D{n}", d.type, d.event_id, d.doc_ids, d.evidence, d.explanation, d.missing,
                   d.confidence)
        for n, d in enumerate(found, start=1)
    )


# ------------------------------------------------------------------------------ word highlights

_TOKEN = re.compile(r"[\w'ʼ’%-]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been has have had it its this "
    "that these those which who whom whose he she they them his her their there said says told also after "
    "before over into than then so such not no".split()
)


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    token = token.lower().strip("'ʼ’-")
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


# A substitution longer than this on either side is a different clause, not a word that differs.
MAX_SUBSTITUTION_WORDS = 3


def _substitutions(left: Statement, right: Statement) -> list[tuple[Statement, int, int]]:
    """Content words that one statement has where the other has different words, found by aligning the two
    statements word by word (difflib): "since 2002" against "since 2003", "slams" against "criticized".
    Words only one side has (extra content) are not differences of wording and are not marked."""
    from difflib import SequenceMatcher

    words_l = list(_TOKEN.finditer(left.text))
    words_r = list(_TOKEN.finditer(right.text))
    matcher = SequenceMatcher(None, [_stem(m.group(0)) for m in words_l], [_stem(m.group(0)) for m in words_r],
                              autojunk=False)
    out: list[tuple[Statement, int, int]] = []
    opcodes = matcher.get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        # a run replaced by a run right after words both share ("since 2002, her office said" against "since
        # 2003"): the first words of each side stand against each other, what is left over on the longer
        # side is extra content. Without a shared word before it, a replaced run is a reordering.
        n = min(i2 - i1, j2 - j1)
        if tag != "replace" or n > MAX_SUBSTITUTION_WORDS or k == 0 or opcodes[k - 1][0] != "equal":
            continue
        for statement, run in ((left, words_l[i1:i1 + n]), (right, words_r[j1:j1 + n])):
            out += [(statement, m.start(), m.end()) for m in run
                    if m.group(0).lower() not in STOPWORDS and len(m.group(0)) >= 2]
    return out


def find_highlights(statements: Sequence[Statement], events: Sequence[Event],
                    differences: Sequence[Difference]) -> tuple[Highlight, ...]:
    """Word spans to highlight: the evidence of typed differences, then, inside each pair of statements of
    one event, the words one has where the other has different ones (not every word the other lacks)."""
    by_ref = {s.ref: s for s in statements}
    highlights: list[Highlight] = []
    typed: dict[StatementRef, list[tuple[int, int]]] = defaultdict(list)
    for diff in differences:
        if diff.type == DifferenceType.OMISSION:
            continue
        for ev in diff.evidence:
            statement = by_ref.get(StatementRef(ev.doc_id, ev.index))
            if statement is None or (ev.start == statement.start and ev.end == statement.end):
                continue
            start, end = ev.start - statement.start, ev.end - statement.start
            highlights.append(Highlight(ev.doc_id, ev.index, start, end, diff.type, diff.difference_id))
            typed[statement.ref].append((start, end))
    plain: dict[StatementRef, set[tuple[int, int]]] = defaultdict(set)
    for event in events:
        members = [by_ref[m] for m in sorted(event.members) if m in by_ref]
        for i, left in enumerate(members):
            for right in members[i + 1:]:
                if left.doc_id == right.doc_id or left.language[:2] != right.language[:2]:
                    continue  # across languages no word lines up with another
                for statement, start, end in _substitutions(left, right):
                    if not any(s <= start < e for s, e in typed[statement.ref]):
                        plain[statement.ref].add((start, end))
    for ref, spans in plain.items():
        highlights += [Highlight(ref.doc_id, ref.index, start, end) for start, end in sorted(spans)]
    highlights.sort(key=lambda h: (h.doc_id, h.index, h.start, h.end, str(h.type)))
    return tuple(highlights)
