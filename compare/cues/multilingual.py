"""Russian and Ukrainian cues that compare equal with English ones.

The generic detector in `cues.py` already reads hedges, negations, attribution verbs and loaded
terms from `lexicons/ru.toml` and `lexicons/uk.toml`. What needs code lives here: numbers with
qualifiers and number words ("более 80%", "понад вісімдесят відсотків"), dates and weekdays
("21 ноября", "у п'ятницю"), names across scripts and declensions (Купянске, Куп'янськ, Kupiansk ->
"Kupyansk"), and attribution sources mapped to one canonical name. Values use the same shapes as
the English cues (unit "%", weekday "Friday", ISO dates), so the differ compares them unchanged.

`localise_cues` is the one hook `cues.detect_cues` calls for non-English statements;
`statement_language` is what segmentation uses to mark a sentence quoted in another language.
Cross-language *alignment* needs nothing here: the aligner's scorer for each multilingual backend is
fitted on the cross-language dev data too (see docs/multilingual.md).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

from compare.model import Cue, CueType

CYRILLIC = "А-Яа-яЁёІіЇїЄєҐґ"
APOSTROPHES = "ʼ’‘`´"
_APOS_TABLE = str.maketrans({c: "'" for c in APOSTROPHES})
SUPPORTED = ("ru", "uk")


def fold_apostrophes(text: str) -> str:
    """Same-length copy with every apostrophe as ASCII ' (offsets stay valid)."""
    return text.translate(_APOS_TABLE)


# ------------------------------------------------------------------------------------------ numbers

_V = TypeVar("_V")


def _forms(value: _V, *words: str) -> dict[str, _V]:
    return {w: value for w in words}


NUMBER_WORDS: dict[str, float] = {
    # Russian
    **_forms(1, "один", "одна", "одно", "одного", "одной", "одному", "одним"),
    **_forms(2, "два", "две", "двух", "двум", "двумя"),
    **_forms(3, "три", "трех", "трёх", "трем", "трём", "тремя"),
    **_forms(4, "четыре", "четырех", "четырёх", "четырем", "четырьмя"),
    **_forms(5, "пять", "пяти", "пятью"), **_forms(6, "шесть", "шести"), **_forms(7, "семь", "семи"),
    **_forms(8, "восемь", "восьми"), **_forms(9, "девять", "девяти"), **_forms(10, "десять", "десяти"),
    **_forms(11, "одиннадцать", "одиннадцати"), **_forms(12, "двенадцать", "двенадцати"),
    **_forms(13, "тринадцать", "тринадцати"), **_forms(14, "четырнадцать", "четырнадцати"),
    **_forms(15, "пятнадцать", "пятнадцати"), **_forms(16, "шестнадцать", "шестнадцати"),
    **_forms(17, "семнадцать", "семнадцати"), **_forms(18, "восемнадцать", "восемнадцати"),
    **_forms(19, "девятнадцать", "девятнадцати"), **_forms(20, "двадцать", "двадцати"),
    **_forms(30, "тридцать", "тридцати"), **_forms(40, "сорок", "сорока"),
    **_forms(50, "пятьдесят", "пятидесяти"), **_forms(60, "шестьдесят", "шестидесяти"),
    **_forms(70, "семьдесят", "семидесяти"), **_forms(80, "восемьдесят", "восьмидесяти"),
    **_forms(90, "девяносто", "девяноста"), **_forms(100, "сто", "ста"), **_forms(200, "двести", "двухсот"),
    **_forms(300, "триста", "трехсот", "трёхсот"), **_forms(400, "четыреста", "четырехсот", "четырёхсот"),
    **_forms(500, "пятьсот", "пятисот"), **_forms(600, "шестьсот", "шестисот"),
    **_forms(700, "семьсот", "семисот"), **_forms(800, "восемьсот", "восьмисот"),
    **_forms(900, "девятьсот", "девятисот"), **_forms(1.5, "полтора", "полторы"), **_forms(12, "дюжина"),
    # Ukrainian
    **_forms(1, "одне", "одної"), **_forms(2, "дві", "двох", "двом"), **_forms(3, "трьох", "трьом"),
    **_forms(4, "чотири", "чотирьох"), **_forms(5, "п'ять", "п'яти", "п'ятьох"),
    **_forms(6, "шість", "шістьох"), **_forms(7, "сім", "сімох"), **_forms(8, "вісім", "вісьмох"),
    **_forms(9, "дев'ять", "дев'яти", "дев'ятьох"), **_forms(10, "десятьох"),
    **_forms(11, "одинадцять", "одинадцяти"), **_forms(12, "дванадцять", "дванадцяти"),
    **_forms(13, "тринадцять", "тринадцяти"), **_forms(14, "чотирнадцять", "чотирнадцяти"),
    **_forms(15, "п'ятнадцять", "п'ятнадцяти"), **_forms(16, "шістнадцять", "шістнадцяти"),
    **_forms(17, "сімнадцять", "сімнадцяти"), **_forms(18, "вісімнадцять", "вісімнадцяти"),
    **_forms(19, "дев'ятнадцять", "дев'ятнадцяти"), **_forms(20, "двадцять", "двадцяти"),
    **_forms(30, "тридцять", "тридцяти"), **_forms(50, "п'ятдесят", "п'ятдесяти"),
    **_forms(60, "шістдесят", "шістдесяти"), **_forms(70, "сімдесят", "сімдесяти"),
    **_forms(80, "вісімдесят", "вісімдесяти"), **_forms(90, "дев'яносто", "дев'яноста"),
    **_forms(200, "двісті", "двохсот"), **_forms(300, "трьохсот"), **_forms(400, "чотириста", "чотирьохсот"),
    **_forms(500, "п'ятсот", "п'ятисот"), **_forms(600, "шістсот", "шестисот"), **_forms(700, "сімсот"),
    **_forms(800, "вісімсот"), **_forms(900, "дев'ятсот"), **_forms(1.5, "півтора", "півтори"),
}
SCALES: dict[str, int] = {
    **_forms(1000, "тысяча", "тысячи", "тысяч", "тысячу", "тысячами", "тыс", "тыс.", "тисяча", "тисячі",
             "тисяч", "тисячу", "тис", "тис."),
    **_forms(1_000_000, "миллион", "миллиона", "миллионов", "млн", "млн.", "мільйон", "мільйона",
             "мільйонів"),
    **_forms(1_000_000_000, "миллиард", "миллиарда", "миллиардов", "млрд", "млрд.", "мільярд", "мільярда",
             "мільярдів"),
}
# Qualifier phrase -> the symbol the English detector uses.
QUALIFIERS: dict[str, str] = {
    "более чем": ">", "более": ">", "больше": ">", "свыше": ">", "чуть более": ">", "чуть больше": ">",
    "понад": ">", "більше": ">", "більш ніж": ">", "більш як": ">", "трохи більше": ">", "ще понад": ">",
    "не менее": ">=", "не меньше": ">=", "как минимум": ">=", "минимум": ">=", "по меньшей мере": ">=",
    "щонайменше": ">=", "не менше": ">=", "принаймні": ">=", "як мінімум": ">=", "мінімум": ">=",
    "менее": "<", "меньше": "<", "менш ніж": "<", "менше": "<", "менш як": "<", "чуть менее": "<",
    "не более": "<=", "не больше": "<=", "до": "<=", "максимум": "<=", "не більше": "<=",
    "около": "~", "примерно": "~", "приблизительно": "~", "порядка": "~", "ориентировочно": "~",
    "близько": "~", "приблизно": "~", "орієнтовно": "~", "почти": "~<", "практически": "~<",
    "майже": "~<", "практично": "~<",
}
PERCENT = ("%", "процент", "процента", "процентов", "проц.", "відсоток", "відсотки", "відсотків",
           "відсотка", "процентів")
# Unit words -> the unit the English detector gives ("people", "km", "civilian", ...). Only units the
# English side knows are mapped; others stay None there too, so cross-language keys line up.
UNITS: dict[str, str] = {
    **_forms("people", "человек", "людей", "люди", "осіб", "особи", "людини"),
    **_forms("civilian", "мирных жителей", "мирных граждан", "мирних жителів", "мирних мешканців",
             "цивільних", "гражданских"),
    **_forms("resident", "жителей", "жителя", "жители", "жителів", "мешканців", "мешканці",
             "мешканця"),
    **_forms("soldier", "военных", "военнослужащих", "солдат", "бойцов", "військових",
             "військовослужбовців", "солдатів", "бійців"),
    **_forms("children", "детей", "ребенка", "ребёнка", "дітей", "дитини"),
    **_forms("home", "домов", "дома", "будинків", "будинки"),
    **_forms("building", "зданий", "здания", "будівель", "будівлі"),
    **_forms("village", "сел", "деревень", "сіл", "селищ"),
    **_forms("settlement", "населенных пунктов", "населённых пунктов", "населених пунктів"),
    **_forms("bus", "автобусов", "автобуса", "автобусів"),
    **_forms("family", "семей", "семьи", "сімей", "родин"),
    **_forms("dead", "погибших", "загиблих"),
    **_forms("killed", "убитых", "убиты", "вбитих", "убитими"),
    **_forms("wounded", "раненых", "ранены", "поранених", "поранені"),
    **_forms("injured", "пострадавших", "постраждалих"),
    **_forms("victim", "жертв"),
    **_forms("km", "км"),
    **_forms("kilometre", "километров", "километра", "километр", "кілометрів", "кілометра",
             "кілометр"),
    **_forms("m", "м"),
    **_forms("hour", "часов", "часа", "годин", "години"),
    **_forms("day", "дней", "дня", "суток", "днів", "доби"),
    **_forms("week", "недель", "недели", "тижнів", "тижні"),
    **_forms("month", "месяцев", "месяца", "місяців", "місяці"),
    **_forms("year", "лет", "года", "годы", "років", "роки", "року"),
    **_forms("dollar", "долларов", "доллара", "доларів", "долара"),
    **_forms("euro", "евро", "євро"),
    **_forms("hryvnia", "гривен", "гривны", "гривень", "гривні"),
    **_forms("rouble", "рублей", "рубля", "рублів"),
    **_forms("tonne", "тонн", "тонны", "тонн", "тонни"),
}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(r"\s+".join(re.escape(p) for p in w.split()) for w in sorted(set(words), key=len,
                                                                                  reverse=True))


_W = rf"[\w{CYRILLIC}']"
_NUMWORD = _alternation(NUMBER_WORDS)
_NUMBER_RE = re.compile(
    rf"(?<!{_W})(?:(?P<qual>{_alternation(QUALIFIERS)})\s+)?"
    r"(?P<num>\d{1,3}(?:[\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
    rf"|(?:{_NUMWORD})(?:\s+(?:{_NUMWORD}))*)"
    rf"(?:\s*(?P<scale>{_alternation(SCALES)})(?!{_W}))?"
    rf"(?:\s*(?P<pct>%|(?:{_alternation(p for p in PERCENT if p != '%')})(?!{_W})))?"
    rf"(?:\s+(?P<unit>{_alternation(UNITS)})(?!{_W}))?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")


def _words_value(raw: str) -> float | None:
    """Value of a run of number words ("восемьдесят пять" -> 85, "дві тисячі" handled by scale)."""
    total = 0.0
    for word in raw.lower().split():
        if word not in NUMBER_WORDS:
            return None
        total += NUMBER_WORDS[word]
    return total


def _digits_value(raw: str) -> float | None:
    cleaned = re.sub(r"[\u00a0\u202f ]", "", raw).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def find_numbers(text: str, *, language: str = "ru", dates: Sequence[Cue] = ()) -> list[Cue]:
    """Quantities in a Russian or Ukrainian statement, valued like the English ones."""
    from compare.cues.lexicon import Spans

    folded = fold_apostrophes(text)
    cues = []
    in_date = Spans((d.start, d.end) for d in dates)
    for m in _NUMBER_RE.finditer(folded):
        num = m.group("num")
        is_words = not num[0].isdigit()
        value = _words_value(num) if is_words else _digits_value(num)
        if value is None:
            continue
        unit = None
        if m.group("pct"):
            unit = "%"
        elif m.group("unit"):
            unit = UNITS[re.sub(r"\s+", " ", m.group("unit").lower())]
        if in_date.has_point(m.start("num")):
            continue  # "21 ноября" is a date
        if _YEAR.match(num) and unit in (None, "year") and not m.group("scale"):
            continue  # "в 2022 году" is a year, not a quantity
        if is_words and unit is None and not m.group("scale") and value < 100:
            continue  # "один из", "двух сторон": number words count only with a unit
        if m.group("scale"):
            value *= SCALES[m.group("scale").lower()]
        qualifier = QUALIFIERS.get(re.sub(r"\s+", " ", (m.group("qual") or "").lower()), "=")
        if qualifier == "<=" and (m.group("qual") or "").lower() == "до" and unit is None:
            qualifier = "="  # bare "до 5" is too often a range end or a date
        start = m.start("qual") if m.group("qual") else m.start("num")
        end = max(m.end(g) for g in ("num", "scale", "pct", "unit") if m.group(g))
        payload = {"value": int(value) if float(value).is_integer() else value, "unit": unit,
                   "qualifier": qualifier}
        cues.append(Cue(CueType.NUMBER, start, end, text[start:end], payload))
    return cues


# -------------------------------------------------------------------------------------------- dates

MONTH_PATTERNS = (
    (1, r"январ[ьяюе]|січ(?:ня|ень|ні)"), (2, r"феврал[ьяюе]|лют(?:ого|ий|ому)"),
    (3, r"март[аеу]?|берез(?:ня|ень|ні)"), (4, r"апрел[ьяюе]|квіт(?:ня|ень|ні)"),
    (5, r"ма[йяюе]|трав(?:ня|ень|ні)"), (6, r"июн[ьяюе]|черв(?:ня|ень|ні)"),
    (7, r"июл[ьяюе]|лип(?:ня|ень|ні)"), (8, r"август[аеу]?|серп(?:ня|ень|ні)"),
    (9, r"сентябр[ьяюе]|верес(?:ня|ень|ні)"), (10, r"октябр[ьяюе]|жовт(?:ня|ень|ні)"),
    (11, r"ноябр[ьяюе]|листопад[аі]?"), (12, r"декабр[ьяюе]|груд(?:ня|ень|ні)"),
)
_MONTH = "|".join(f"(?:{p})" for _, p in MONTH_PATTERNS)
WEEKDAY_PATTERNS = (
    ("Monday", r"понедельник[а]?|понеділ(?:ок|ка)"), ("Tuesday", r"вторник[а]?|вівтор(?:ок|ка)"),
    ("Wednesday", r"сред[аыу]|серед[аиу]"), ("Thursday", r"четверг[а]?|четвер(?:га)?"),
    ("Friday", r"пятниц[аыу]|п'ятниц[яіюі]"), ("Saturday", r"суббот[аыу]|субот[аиу]"),
    ("Sunday", r"воскресень[ея]|неділ[яіюі]"),
)
_WEEKDAY = "|".join(f"(?:{p})" for _, p in WEEKDAY_PATTERNS)
PARTS = {"начале": "early", "начала": "early", "початку": "early", "середине": "mid", "середині": "mid",
         "конце": "late", "кінці": "late", "наприкінці": "late"}
RELATIVE = {"вчера": -1, "вчора": -1, "сегодня": 0, "сьогодні": 0, "позавчера": -2, "позавчора": -2,
            "прошлой ночью": -1, "минулої ночі": -1, "этой ночью": 0, "цієї ночі": 0}
_DATE_RE = re.compile(
    rf"(?<!{_W})(?:"
    rf"(?P<dm>(?P<day>\d{{1,2}})(?:-?(?:го|е|ого))?\s+(?P<month>{_MONTH})(?:\s+(?P<year>\d{{4}})"
    r"(?:\s*(?:г\.|года|году|год|р\.|року|рік))?)?)"
    r"|(?P<num>(?P<nd>\d{1,2})\.(?P<nm>\d{1,2})\.(?P<ny>\d{4}))"
    r"|(?P<iso>(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2}))"
    rf"|(?P<part>(?:(?:в|у|на)\s+)?(?P<pw>начале|середине|конце|початку|середині|кінці|наприкінці)\s+"
    rf"(?P<pmonth>{_MONTH})(?:\s+(?P<pyear>\d{{4}}))?)"
    rf"|(?P<wd>(?:(?:в|во|у|в ночь на|в ніч на|вечером в|ввечері у)\s+)?(?P<weekday>{_WEEKDAY}))"
    rf"|(?P<rel>{_alternation(RELATIVE)})"
    rf"|(?P<mo>(?:(?:в|у)\s+)(?P<month2>{_MONTH})(?:\s+(?P<year2>\d{{4}}))?)"
    rf")(?!{_W})",
    re.IGNORECASE,
)


def _month(token: str) -> int | None:
    for number, pattern in MONTH_PATTERNS:
        if re.fullmatch(pattern, token, re.IGNORECASE):
            return number
    return None


def _weekday(token: str) -> str | None:
    for name, pattern in WEEKDAY_PATTERNS:
        if re.fullmatch(pattern, token, re.IGNORECASE):
            return name
    return None


def find_dates(text: str, *, language: str = "ru", reference: date | None = None) -> list[Cue]:
    """Dates, weekdays and relative days, valued like English date cues (ISO when it can be pinned)."""
    folded = fold_apostrophes(text)
    cues = []
    for m in _DATE_RE.finditer(folded):
        value: dict[str, Any] = {}
        try:
            if m.group("dm"):
                month, day = _month(m.group("month")), int(m.group("day"))
                if month is None or not 1 <= day <= 31:
                    continue
                value = {"month": month, "day": day}
                year = int(m.group("year")) if m.group("year") else (reference.year if reference else None)
                if year:
                    value["iso"] = date(year, month, day).isoformat()
            elif m.group("num"):
                value = {"iso": date(int(m.group("ny")), int(m.group("nm")), int(m.group("nd"))).isoformat()}
            elif m.group("iso"):
                value = {"iso": date(int(m.group("iy")), int(m.group("im")), int(m.group("id"))).isoformat()}
            elif m.group("part"):
                value = {"month": _month(m.group("pmonth")), "part": PARTS[m.group("pw").lower()]}
                if m.group("pyear"):
                    value["year"] = int(m.group("pyear"))
            elif m.group("wd"):
                name = _weekday(m.group("weekday"))
                if name is None:
                    continue
                value = {"weekday": name}
                if reference:
                    index = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                             "Sunday"].index(name)
                    value["iso"] = (reference - timedelta(days=(reference.weekday() - index) % 7)).isoformat()
            elif m.group("rel"):
                word = re.sub(r"\s+", " ", m.group("rel").lower())
                value = {"relative": word}
                if reference:
                    value["iso"] = (reference + timedelta(days=RELATIVE[word])).isoformat()
            elif m.group("mo"):
                value = {"month": _month(m.group("month2")), "part": None}
                if m.group("year2"):
                    value["year"] = int(m.group("year2"))
        except ValueError:
            continue
        start, end = m.span()
        cues.append(Cue(CueType.DATE, start, end, text[start:end], value))
    return cues


# ------------------------------------------------------------------------------------- names

@dataclass(frozen=True)
class NameEntry:
    canonical: str
    kind: CueType  # PLACE or ENTITY
    variants: tuple[str, ...]
    stems: tuple[str, ...]


@lru_cache(maxsize=1)
def name_table() -> tuple[NameEntry, ...]:
    """Places ([[place]]) and people/organisations ([[entity]]) from lexicons/places.toml."""
    text = resources.files("compare.lexicons").joinpath("places.toml").read_text("utf-8")
    data = tomllib.loads(text)
    entries = []
    for key, kind in (("place", CueType.PLACE), ("entity", CueType.ENTITY)):
        for item in data.get(key, []):
            entries.append(NameEntry(item["canonical"], kind,
                                     tuple(_fold(v) for v in item.get("variants", [])),
                                     tuple(_fold(s) for s in item.get("stems", []))))
    return tuple(entries)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", fold_apostrophes(text).lower().replace("ё", "е")).strip()


def lookup_name(text: str) -> NameEntry | None:
    """The gazetteer entry a spelling or declined form belongs to, if any (longest stem wins)."""
    folded = _fold(text)
    best: tuple[int, NameEntry] | None = None
    for entry in name_table():
        if folded in entry.variants:
            return entry
        for stem in entry.stems:
            rest = folded[len(stem):]
            if (folded.startswith(stem) and len(rest) <= 5 and " " not in rest
                    and (best is None or len(stem) > best[0])):
                best = (len(stem), entry)
    return best[1] if best else None


# Russian and Ukrainian name endings: declined forms -> nominative (surnames in -ов/-ев/-ин, towns in
# -ск/-ськ, and the common a-stem). Applied only to unknown names, before transliteration.
_DECLENSION = (
    (re.compile(r"(ов|ев|ин|ын)(а|у|ым|ом|е|ым|им)$"), r"\1"),
    (re.compile(r"(ск|цк)(а|у|ом|е)$"), r"\1"),
    (re.compile(r"(ськ|цьк)(а|у|ом|у|ові)$"), r"\1"),
    (re.compile(r"(ский|ского|скому|ским|ском)$"), "ский"),
    (re.compile(r"(ський|ського|ському|ським)$"), "ський"),
)
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ye", "ж": "zh",
    "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "'": "",
}
_TRANSLIT_UK = {**_TRANSLIT, "г": "h", "и": "y"}


def transliterate(text: str, language: str = "ru") -> str:
    """BGN/PCGN-style romanisation (the spelling English newsrooms mostly use), title-cased."""
    table = _TRANSLIT_UK if language == "uk" else _TRANSLIT
    out = []
    for ch in fold_apostrophes(text):
        low = ch.lower()
        if low in table:
            rom = table[low]
            out.append(rom.capitalize() if ch != low and rom else rom)
        else:
            out.append(ch)
    result = "".join(out)
    result = re.sub(r"iy\b", "y", result)  # Валерий -> Valery, not Valeriy
    result = re.sub(r"yy\b", "y", result)
    return re.sub(r"\s+", " ", result).strip()


def guess_nominative(word: str) -> str:
    """Undo the commonest declension of an unknown name ("Путину" -> "Путин", "Купянске" -> "Купянск")."""
    lowered = word.lower()
    for pattern, repl in _DECLENSION:
        if pattern.search(lowered):
            base = pattern.sub(repl, lowered)
            return base.capitalize() if word[:1].isupper() else base
    return word


def canonical_name(text: str, language: str = "ru") -> str:
    """A spelling-, script- and case-independent key: gazetteer canonical, else nominative guess,
    romanised. Latin-script names go through `cues.canonical_name` unchanged."""
    entry = lookup_name(text)
    if entry is not None:
        return entry.canonical
    if not re.search(f"[{CYRILLIC}]", text):
        from compare.cues.names import canonical_name as latin_canonical

        return latin_canonical(text)
    words = [guess_nominative(w) for w in fold_apostrophes(text).split()]
    entry = lookup_name(" ".join(words))
    if entry is not None:
        return entry.canonical
    return transliterate(" ".join(words), language).title()


# ---------------------------------------------------------------------------------- attribution

SOURCE_NOUNS = (
    "власти", "военные", "чиновники", "официальные лица", "источники", "источник", "губернатор",
    "министерство", "ведомство", "командование", "администрация", "полиция", "прокуратура",
    "журналисты", "аналитики", "эксперты", "блогеры", "военкоры", "жители", "волонтеры", "волонтёры",
    "энергетики", "спасатели", "местные власти", "военные блогеры", "представитель", "пресс-служба",
    "влада", "військові", "посадовці", "джерела", "джерело", "міністерство", "відомство",
    "командування", "адміністрація", "поліція", "прокурори", "прокуратура", "журналісти", "аналітики",
    "експерти", "блогери", "мешканці", "волонтери", "енергетики", "рятувальники", "місцева влада",
    "військові блогери", "речник", "речниця", "пресслужба", "пресслужба",
)
_SOURCE_NOUN_RE = _alternation(SOURCE_NOUNS)
_CAPWORD = rf"[А-ЯЁІЇЄҐA-Z][\w{CYRILLIC}'.-]*"
_SOURCE_AFTER = re.compile(
    rf"\s*(?:(?:в|у|во)\s+)?(?P<src>(?:(?:{_SOURCE_NOUN_RE})[{CYRILLIC}]*(?:\s+[\w{CYRILLIC}'-]+){{0,2}}?(?:\s+{_CAPWORD})*"
    rf"|{_CAPWORD}(?:\s+(?:{_CAPWORD}|[а-яёіїєґ]+\s+{_CAPWORD}))*))",
    re.IGNORECASE,
)
_SOURCE_BEFORE = re.compile(
    rf"(?P<src>(?:(?:в|у)\s+)?(?:{_CAPWORD}(?:\s+{_CAPWORD})*|(?:[\w{CYRILLIC}-]+\s+)?(?:{_SOURCE_NOUN_RE})"
    rf"(?:\s+{_CAPWORD})*))\s*,?\s*(?:—|-|–)?\s*$",
)


def attribution_source(text: str, start: int, end: int, language: str = "ru") -> str | None:
    """Who a Russian/Ukrainian attribution cue (text[start:end]) points at.

    After a marker ("по данным X", "за словами X"); for a verb, the subject right before it
    ("Герасимов доложил") or else the words after it ("сообщили местные власти").
    """
    from compare.cues.lexicon import lexicon

    lex = lexicon(language)
    folded = fold_apostrophes(text)
    marker = lex.attribution_markers.match(folded, start) if lex.attribution_markers else None
    if marker is not None:
        after = _SOURCE_AFTER.match(folded, marker.end())
        return text[after.start("src"):after.end("src")].strip(" ,.;:") if after else None
    verb = lex.attribution_verbs.search(folded, start, end) if lex.attribution_verbs else None
    if verb is None:
        return None
    head = folded[max(0, verb.start() - 80):verb.start()]
    stripped = _ADVERBIAL_TAIL.sub("", head)  # "Российское Минобороны ещё в четверг объявило": skip "ещё в четверг"
    if not stripped.rstrip().endswith(","):  # "..., в пятницу доложил": a clause ends there, no subject
        head = stripped
    before = _SOURCE_BEFORE.search(head)
    if before:
        src = before.group("src").strip(" ,.;:—–-")
        src = re.sub(r"^(?:в|у)\s+", "", src, flags=re.IGNORECASE)
        if src:
            return src
    position = verb.end()
    addressee = _ADDRESSEE.match(folded, position)
    if addressee:  # "доложил президенту Владимиру Путину начальник Генштаба": the speaker follows the addressee
        position = addressee.end()
    after = _SOURCE_AFTER.match(folded, position)
    if after and after.group("src").strip():
        return text[after.start("src"):after.end("src")].strip(" ,.;:")
    return None


# Time adverbials between a subject and its verb ("ще в четвер", "уже в пятницу", "ранее").
_ADVERBIAL_TAIL = re.compile(r"(?:\s+(?:ще|щё|еще|ещё|уже|вже|також|также|ранее|раніше|вчера|вчора|сегодня|сьогодні|"
                             r"(?:в|у|во)\s+(?:понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье|"
                             r"понеділок|вівторок|середу|четвер|п'ятницю|суботу|неділю)))+\s*$", re.IGNORECASE)
# A dative addressee right after a verb of reporting ("доложил президенту Владимиру Путину", "повідомив
# журналістам"): a lower-case noun in the dative and the capitalised names agreeing with it.
_ADDRESSEE = re.compile(rf"\s+[а-яёіїєґ]+(?:у|ю|ам|ям|ові|еві)(?:\s+[А-ЯЁІЇЄҐ][{CYRILLIC}'-]*(?:у|ю|ові|еві))*(?=\s)")


def canonical_source(source: str | None, language: str) -> str | None:
    """One spelling for a source across languages ("Генштаба ВСУ", "the General Staff" -> General Staff)."""
    if not source:
        return source
    words = source.split()[:_MAX_NAME_WORDS * 2]  # a source phrase is a few words; bound the pairs tried
    for size in range(len(words), 0, -1):  # longest known prefix: "Генштаб ВСУ" -> "Генштаб"
        for first in range(0, len(words) - size + 1):
            entry = lookup_name(" ".join(words[first:first + size]))
            if entry is not None:
                return entry.canonical
    return source


# ----------------------------------------------------------------------------------- the hook

_LOCATIVE = re.compile(r"(?:^|\s)(?:в|во|у|под|біля|поблизу|возле|около|из|із|з|до|село|селе|селі|"
                       r"города|городе|міста|місті|поселок|поселке|селище|селищі)\s+$", re.IGNORECASE)


def localise_cues(cues: Sequence[Cue], text: str, *, language: str,
                  reference: date | None = None) -> list[Cue]:
    """Make a non-English statement's cues comparable with English ones.

    For Russian and Ukrainian: replaces the English-rule numbers and dates with RU/UK ones, gives
    places and names their canonical (cross-script) key, finds attribution sources, and drops
    negations that are really part of a qualifier ("не менее"). Other languages pass through.
    """
    lang = (language or "").lower()[:2]
    if lang not in SUPPORTED:
        return list(cues)
    dates = find_dates(text, language=lang, reference=reference)
    numbers = find_numbers(text, language=lang, dates=dates)
    from compare.cues.lexicon import Spans

    qualifier_spans = Spans((c.start, c.end) for c in numbers if (c.value or {}).get("qualifier") != "=")
    date_spans = Spans((d.start, d.end) for d in dates)
    out: list[Cue] = []
    for cue in cues:
        if cue.type in (CueType.NUMBER, CueType.DATE):
            continue  # replaced below
        if cue.type == CueType.NEGATION and qualifier_spans.has_point(cue.start):
            continue
        if cue.type in (CueType.PLACE, CueType.ENTITY):
            if date_spans.has_point(cue.start):
                continue  # a capitalised month or weekday at the start of a sentence
            out += _localise_names(cue, text, lang)
            continue
        if cue.type == CueType.ATTRIBUTION:
            source = canonical_source(attribution_source(text, cue.start, cue.end, lang), lang)
            out.append(Cue(cue.type, cue.start, cue.end, cue.text, cue.value, source))
            continue
        out.append(cue)
    out += dates + numbers
    return out


_MAX_NAME_WORDS = 6
_NOT_NAME_STEMS = ("российск", "русск", "украинск", "російськ", "українськ", "советск", "радянськ")


def _localise_names(cue: Cue, text: str, language: str) -> list[Cue]:
    """Canonical key and kind for a name cue; known names inside a longer capitalised run are split
    out ("Начальник Генштаба Валерий Герасимов" -> General Staff + Valery Gerasimov)."""
    if not cue.text[:1].isupper() or _fold(cue.text).startswith(_NOT_NAME_STEMS):
        return []  # "российских", "Украинские": adjectives, not names (English drops "Russian" too)
    words = list(re.finditer(r"\S+", cue.text))
    if len(words) > 1 and lookup_name(cue.text) is None:
        found: list[Cue] = []
        i = 0
        while i < len(words):
            # A known name is at most _MAX_NAME_WORDS words: trying every longer span made a long
            # capitalised run cost the cube of its length.
            for j in range(min(len(words), i + _MAX_NAME_WORDS), i, -1):
                span = cue.text[words[i].start():words[j - 1].end()]
                if lookup_name(span) is not None:
                    s, e = cue.start + words[i].start(), cue.start + words[j - 1].end()
                    found.append(_localise_name(Cue(cue.type, s, e, span), text, language))
                    i = j
                    break
            else:
                i += 1
        if found:
            return found
        if cue.start == 0:  # the sentence's first word is capitalised anyway: drop it
            s = cue.start + words[1].start()
            return [_localise_name(Cue(cue.type, s, cue.end, text[s:cue.end]), text, language)]
    return [_localise_name(cue, text, language)]


def _localise_name(cue: Cue, text: str, language: str) -> Cue:
    entry = lookup_name(cue.text)
    if entry is None:
        entry = lookup_name(" ".join(guess_nominative(w) for w in fold_apostrophes(cue.text).split()))
    kind = cue.type
    if entry is not None:
        kind = entry.kind
    elif cue.type == CueType.ENTITY and _LOCATIVE.search(text[max(0, cue.start - 12):cue.start]):
        kind = CueType.PLACE
    return Cue(kind, cue.start, cue.end, cue.text, {"canonical": canonical_name(cue.text, language)},
               cue.source)


# ------------------------------------------------------------------ statement language (mixed docs)

_UK_LETTERS = re.compile(r"[іїєґІЇЄҐ]")
_RU_LETTERS = re.compile(r"[ыэъёЫЭЪЁ]")


def statement_language(text: str, document_language: str) -> str:
    """The language of one sentence in a document of `document_language`.

    Only switches when the evidence is clear — another script, or letters only the other of
    Russian/Ukrainian has — so a short quote or a name never flips a sentence by accident.
    """
    doc = (document_language or "en").lower()[:2]
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 12:
        return doc
    cyr = sum(1 for c in letters if "\u0400" <= c <= "\u04ff") / len(letters)
    if doc not in ("ru", "uk", "be", "bg") and cyr > 0.6:
        return "uk" if len(_UK_LETTERS.findall(text)) > len(_RU_LETTERS.findall(text)) else "ru"
    if doc in ("ru", "uk") and cyr < 0.2 and len(text.split()) >= 4:
        return _langid(text, ("en", "de", "fr", "es", "it", "pl")) or doc
    uk_only, ru_only = len(_UK_LETTERS.findall(text)), len(_RU_LETTERS.findall(text))
    if doc == "ru" and uk_only and not ru_only:
        return "uk" if uk_only >= 2 else (_langid(text, ("ru", "uk")) or doc)
    if doc == "uk" and ru_only and not uk_only:
        return "ru" if ru_only >= 2 else (_langid(text, ("ru", "uk")) or doc)
    return doc


@lru_cache(maxsize=4)
def _identifier(langs: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(langs))
    return identifier


def _langid(text: str, langs: tuple[str, ...]) -> str | None:
    try:
        return str(_identifier(langs).classify(text)[0])
    except Exception:  # detection is a refinement; never fail a comparison over it
        return None
