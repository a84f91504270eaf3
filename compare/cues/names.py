"""Names, places and entities: the gazetteer, canonical names and name keys, and the capitalised-sequence
finder for places, people and organisations."""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.cues.lexicon import APOS, _after, ends_before, last_before
from compare.model import Cue, CueType

# --------------------------------------------------------------------------------------------- names


@dataclass(frozen=True)
class Gazetteer:
    canonical_by_variant: dict[str, str]
    kind_by_variant: dict[str, CueType]
    pattern: re.Pattern[str]


def _name_entries() -> list[tuple[CueType, dict[str, Any]]]:
    entries: list[tuple[CueType, dict[str, Any]]] = []
    for filename in ("places.toml", "en.toml"):
        try:
            data = tomllib.loads(resources.files("compare.lexicons").joinpath(filename).read_text("utf-8"))
        except (FileNotFoundError, OSError):
            continue
        entries += [(CueType.PLACE, e) for e in data.get("place", [])]
        entries += [(CueType.ENTITY, e) for e in data.get("entity", [])]
    return entries


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Known places and names with their spelling variants (places.toml plus en.toml), and countries."""
    by_variant: dict[str, str] = {}
    kinds: dict[str, CueType] = {}
    alternatives = []
    for kind, entry in _name_entries():
        for variant in entry.get("variants", []):
            by_variant.setdefault(_fold(variant), entry["canonical"])
            kinds.setdefault(_fold(variant), kind)
            if kind == CueType.PLACE:
                alternatives.append(re.escape(variant) + rf"(?![\w{APOS}]|-[A-Z])")
        for stem in entry.get("stems", []):
            by_variant.setdefault(_fold(stem), entry["canonical"])
            kinds.setdefault(_fold(stem), kind)
            if kind == CueType.PLACE:
                alternatives.append(re.escape(stem) + r"\w*")
    for country in countries():
        if _fold(country) not in by_variant:
            by_variant[_fold(country)] = country
            kinds[_fold(country)] = CueType.PLACE
            alternatives.append(re.escape(country) + rf"(?![\w{APOS}])")
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(rf"(?<![\w{APOS}-])(?:" + "|".join(alternatives) + ")")
    return Gazetteer(by_variant, kinds, pattern)


def countries() -> list[str]:
    """English country names (from Babel's CLDR data when available; a geographic fact, not a guess)."""
    try:
        from babel import Locale
    except ImportError:  # pragma: no cover - babel comes with trafilatura
        return []
    names = [n for code, n in Locale("en").territories.items() if code.isalpha() and "&" not in n
             and "(" not in n and len(n) > 3]
    return sorted(set(names) - {"World", "Europe", "Americas", "Oceania", "Africa", "Asia", "Georgia", "Jordan",
                                 "Chad", "Turkey", "Guinea", "Niger", "Jersey", "Congo - Kinshasa"})


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("ʼ", "'").replace("’", "'")).strip()


@lru_cache(maxsize=1)
def _variant_rank() -> dict[str, int]:
    return {variant: rank for rank, variant in enumerate(gazetteer().canonical_by_variant)}


@lru_cache(maxsize=65536)
def canonical_name(text: str) -> str:
    """A spelling-independent name: the gazetteer's canonical form, else the name transliterated to ASCII.

    Cached: a story repeats its names, and a nightly run sees the same ones in every story."""
    gaz = gazetteer()
    text = re.sub(rf"[{APOS}]s$", "", text.strip())
    folded = _fold(text)
    if folded in gaz.canonical_by_variant:
        return gaz.canonical_by_variant[folded]
    # Russian/Ukrainian declension: a known spelling (5+ letters) plus a short non-ASCII case ending
    # ("Купянске"). Only the three possible cuts are looked up; of several hits the gazetteer's first wins.
    if " " not in folded:
        hits = [folded[:-cut] for cut in (1, 2, 3)
                if len(folded) - cut >= 5 and folded[:-cut] in gaz.canonical_by_variant
                and folded[-cut:].isalpha() and not folded[-cut:].isascii()]
        if hits:
            return gaz.canonical_by_variant[min(hits, key=_variant_rank().__getitem__)]
    from anyascii import anyascii

    ascii_name = anyascii(text)
    ascii_name = re.sub(r"['`’ʼ]", "", ascii_name)
    return re.sub(r"\s+", " ", ascii_name).strip()


def name_key(name: str) -> str:
    """A loose key under which transliteration variants of one name usually collide ("Kupiansk" and
    "Kupyansk", "Dmitri" and "Dmitry"): ASCII, lower case, y/i/j and doubled letters folded."""
    from anyascii import anyascii

    key = anyascii(canonical_name(name)).lower()
    key = re.sub(r"[^a-z ]", "", key)
    key = re.sub(r"(?<=[a-z])(?:iy|yi|ii|yy|ij|ei|ey)\b", "i", key)
    key = re.sub(r"[yj]", "i", key)
    key = re.sub(r"kh", "h", key)
    key = re.sub(r"(.)\1", r"\1", key)
    return key


# Words that introduce a name without being part of it.
TITLES = {
    "president", "general", "gen", "governor", "gov", "mayor", "minister", "prime", "foreign", "defence",
    "defense", "chief", "commander", "commander-in-chief", "col", "colonel", "lt", "lieutenant", "major",
    "sgt", "sergeant", "captain", "capt", "admiral", "mr", "mrs", "ms", "dr", "chancellor", "senator",
    "judge", "king", "queen", "prince", "sir", "lord", "secretary", "spokesman", "spokeswoman", "intelligence",
    "deputy", "ambassador", "envoy", "marshal", "patriarch", "metropolitan", "rep", "sen", "adm", "maj",
    "field", "vice", "acting", "former", "late", "opposition", "leader", "head", "director", "professor",
    "prof", "state", "interior", "economy", "finance", "health", "justice", "energy",
}
_TITLE_LINK = {"of", "the", "for", "and"}
_NOT_NAMES = {
    "The", "A", "An", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "In", "On",
    "At", "But", "And", "Or", "However", "Meanwhile", "According", "Despite", "While", "As", "After",
    "Before", "When", "Since", "Its", "His", "Her", "Their", "Our", "There", "Here", "If", "For", "By",
    "With", "From", "Some", "Many", "Most", "Other", "Others", "Additionally", "Also", "Still", "Yet",
    "Although", "Both", "Earlier", "Later", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December", "Nov", "Oct", "Dec", "Jan", "Feb", "Aug", "Sept", "Sep",
    "Apr", "Jun", "Jul", "Mar", "Mr", "Mrs", "Ms", "Dr",
    "No", "Not", "Over", "About", "More", "Less", "Russian", "Ukrainian", "Western", "Asked", "Under",
    "Independent", "Neither", "Two", "Three", "One", "Four", "Five", "Several", "Among",
    "Speaking", "Officials", "Local", "Residents", "What", "Why", "How", "Who", "Where", "Everything",
    "European", "British", "American", "French", "German", "Polish", "Pro-Kremlin", "Pro-Russian", "Today",
    "Tonight", "Yesterday", "Tomorrow", "Only", "Private", "Government", "Police", "Troops", "Dozens",
    "Hundreds", "Thousands", "Rescuers", "Witnesses", "Analysts", "Doctors", "Sources", "Investigators",
    "Protesters", "Volunteers", "Workers", "Dockers", "Strikers", "Management", "Sappers", "Ambulances",
    "Negotiators", "Lawyers", "Critics", "Shoppers", "Activists", "Militants", "Rebels", "Soldiers",
    "Separatists", "Authorities", "Nobody", "None", "Nothing", "Never", "Notwithstanding", "Nonetheless",
    "Noting", "Then", "Now", "Once", "All", "Each", "Every", "Any", "Such", "Following", "During",
    "Until", "Within", "Without", "Across", "Near", "Outside", "Inside", "Up", "Down", "Almost", "Nearly",
    "Roughly", "Around", "Eleven", "Twelve", "Six", "Seven", "Eight", "Nine", "Ten", "Seventeen",
    "Twenty-five", "Fewer", "Between", "Close", "Just", "Possibly", "Reportedly", "Apparently", "Presumably",
    "Last", "Next", "Early", "Late", "Mid", "Kremlin-backed", "Fat-cat", "Extremist", "Fascist", "Cowardly",
    "Aggression", "Invasion", "Reports", "Insurance", "Prices", "Exports", "Unemployment", "Inflation",
    "Heavy", "Flights", "Flooding", "Fighting", "Shelling", "Water", "Power", "Rain", "Crews", "Annotated",
    "Wage", "Strike", "Talks", "Construction", "Relief", "Results", "Polls", "Voters", "Schools", "Election",
    "Parliament", "Initial", "Satellite", "Turnout", "Rainfall", "Air", "Traffic", "Article",
    "Brigade", "Block", "Route", "Flight", "Storm", "Covid-19", "Russia-backed",
}
_PLACE_PREP = re.compile(
    r"\b(?:in|near|outside|at|from|into|towards?|around|across|of|off|over|via|between|left|reached|"
    r"entered|captured|liberated|taken|took|hit|shelled|retook|recaptured|held|hold|holds|fled|leave|left|"
    r"and)\s+(?:the\s+)?(?:(?:village|town|city|port|region|district|settlement|ports|capital)\s+of\s+)?$"
)
_CAPSEQ = re.compile(rf"(?<![\w{APOS}])(?:[A-ZА-ЯЁІЇЄҐÀ-Ý][\w{APOS}.&-]*)(?:\s+(?:of\s+the\s+|of\s+|for\s+the\s+|"
                     rf"the\s+|de\s+|al-|sans\s+)?(?:[A-ZА-ЯЁІЇЄҐÀ-Ý]|\d+(?:st|nd|rd|th)\s+[A-Z])"
                     rf"[\w{APOS}&-]*)*")
_PLACE_HINT_WORDS = {"region", "oblast", "district", "river", "port", "village", "town", "city", "bay",
                     "valley", "county", "province", "bridge", "station", "square", "street", "hills", "hill",
                     "sea", "lake", "mountains", "island", "islands", "avenue", "coast", "gulf", "reservoir"}
_PLACE_SUFFIX = re.compile(r"(?:sk|ivka|ovka|evka|ivske|opil|opol|grad|hrad|gorod|horod|ivtsi|burg|ville|ford|"
                           r"by|holm|stadt|pol)$")
_ORG_WORDS = {"ministry", "staff", "agency", "army", "forces", "brigade", "command", "council", "union",
              "office", "service", "company", "authority", "government", "committee", "department", "police",
              "guard", "news", "wire", "herald", "observer", "press", "times", "post", "gazette", "review",
              "voice", "daily", "terminals", "institute", "group", "organization", "organisation", "commission",
              "court", "bank", "railways", "board", "international", "watch", "cross", "association",
              "federation", "party", "analysis", "independent", "journal", "tribune", "telegraph", "network",
              "corporation", "ltd", "inc", "battalion", "regiment", "division", "corps", "fleet", "nations",
              "union's", "security", "intelligence", "parliament", "assembly", "duma", "rada", "kremlin",
              "pentagon", "bureau", "foundation", "centre", "center", "university", "hospital", "school"}


def looks_like_org(words: Sequence[str]) -> bool:
    return any(w.lower().strip(".,") in _ORG_WORDS for w in words)


def _strip_titles(words: list[str]) -> tuple[list[str], int]:
    """Drop leading titles ("President", "Chief of the General Staff"); returns the rest and how many
    words were dropped. Keeps everything when nothing but titles would remain."""
    i = 0
    last_title = -1
    while i < len(words):
        w = words[i].lower().rstrip(".")
        if w in TITLES or (w in _ORG_WORDS and last_title >= 0):
            last_title = i
        elif not (w in _TITLE_LINK and last_title >= 0):
            break
        i += 1
    cut = last_title + 1
    if cut == 0 or cut >= len(words):
        return words, 0
    # "Chief of the General Staff Valery Gerasimov": a person's name follows the title.
    return words[cut:], cut


_ORG_AFTER_PLACE = re.compile(r"\s+(?:[A-Z][a-z]+\s+)*(?:Herald|Times|Wire|Post|Daily|Independent|Observer|"
                              r"Review|Gazette|Metro|Railways|Regional|Energy|Terminals)\b")


class _Taken:
    """Non-overlapping spans already given to a name, kept sorted: an overlap test in log time."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.spans, (end, -1))  # spans starting before `end`
        return any(self.spans[j][1] > start for j in range(max(0, i - 2), i))

    def add(self, span: tuple[int, int]) -> None:
        insort(self.spans, span)


def find_places_and_entities(text: str) -> list[Cue]:
    gaz = gazetteer()
    cues: list[Cue] = []
    taken = _Taken()
    for m in gaz.pattern.finditer(text):
        if _ORG_AFTER_PLACE.match(_after(text, m.end())):
            continue  # part of an organisation's name ("Kyiv Daily Wire", "The Moscow Times")
        cues.append(Cue(CueType.PLACE, m.start(), m.end(), m.group(0), {"canonical": canonical_name(m.group(0))}))
        taken.add(m.span())
    for m in _CAPSEQ.finditer(text):
        start, end = m.span()
        name = m.group(0)
        while name and name[-1] in ".-":
            name = name[:-1]
        # Split at a possessive ("Ukraine's General Staff"): the owner is a name of its own.
        possessive = re.search(rf"[{APOS}]s\s+", name)
        parts = [(start, start + possessive.start()), (start + possessive.end(), start + len(name))] \
            if possessive else [(start, start + len(name))]
        for p_start, p_end in parts:
            _add_name(text, p_start, p_end, cues, taken, gaz)
    return cues


_MODIFIER_END = re.compile(r"-(?:held|backed|controlled|installed|led|based|born|made|style|era)$")
_POSSESSIVE_END = re.compile(rf"[{APOS}]s?$")


def _add_name(text: str, start: int, end: int, cues: list[Cue], taken: _Taken, gaz: Gazetteer) -> None:
    name = text[start:end]
    if _MODIFIER_END.search(name, max(0, len(name) - 20)):
        return  # "Ukrainian-held", "Kremlin-backed": a modifier, not a name
    possessive = _POSSESSIVE_END.search(name, max(0, len(name) - 2))
    if possessive:
        name = name[:possessive.start()]
    end = start + len(name)
    # Words with their spans, found once: dropping leading non-names and trailing links word by word
    # used to re-slice the name each time (quadratic in a long run of capitalised words).
    spans = [(start + w.start(), start + w.end()) for w in re.finditer(r"\S+", name)]
    first, last = 0, len(spans)
    while first < last and text[spans[first][0]:spans[first][1]] in _NOT_NAMES:
        first += 1
    while last > first and text[spans[last - 1][0]:spans[last - 1][1]].lower() in _TITLE_LINK:
        last -= 1
    if first == last:
        return
    start = spans[first][0]
    if last < len(spans):
        end = spans[last - 1][1]
    words = [text[s:e] for s, e in spans[first:last]]
    rest, dropped = _strip_titles(words)
    had_title = dropped > 0
    if dropped:
        start = text.index(rest[0], start)
    words = rest
    name = text[start:end]
    if taken.overlaps(start, end):
        return
    if len(name) < 2 or not any(ch.isalpha() for ch in name):
        return
    at_sentence_start = last_before(text, start) in ("", "“", "\"", "(")
    folded = _fold(name)
    known = folded in gaz.canonical_by_variant
    if at_sentence_start and len(words) == 1 and not known and not had_title \
            and not (name.isupper() and len(name) >= 2) and not _name_like_start(text, end):
        return  # a capitalised first word is usually just the start of the sentence
    kind = gaz.kind_by_variant.get(folded)
    if kind is None:
        is_place = ((bool(ends_before(_PLACE_PREP, text, start)) and not looks_like_org(words) and not had_title
                     and not _person_like(words))
                    or words[-1].lower() in _PLACE_HINT_WORDS
                    or (len(words) == 1 and bool(_PLACE_SUFFIX.search(words[0].lower()))
                        and not looks_like_org(words)))
        kind = CueType.PLACE if is_place else CueType.ENTITY
    cues.append(Cue(kind, start, end, name, {"canonical": canonical_name(name)}))
    taken.add((start, end))


def _person_like(words: Sequence[str]) -> bool:
    return len(words) == 2 and all(w[:1].isupper() and w[1:].islower() for w in words) and \
        words[-1].lower().endswith(("ov", "ev", "in", "enko", "uk", "sky", "skyi", "ski", "ko", "ich", "vich"))


def _name_like_start(text: str, end: int) -> bool:
    """A sentence-initial single capitalised word followed by a possessive or a reporting verb is a name."""
    return bool(_NAME_LIKE_AFTER.match(_after(text, end)))


_NAME_LIKE_AFTER = re.compile(rf"(?:[{APOS}]s\b|\s+(?:said|says|told|reported|reports|announced|added|also|has|"
                              r"had|was|is|could|will|would|cut|thanked|claimed|claims|insists|denied|confirmed)\b"
                              r"|,\s)")
