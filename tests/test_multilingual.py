"""Russian and Ukrainian cues normalise to the same values as English ones (numbers, dates, names,
sources, frames), so the differ compares accounts across languages."""

from __future__ import annotations

from datetime import date

import pytest

from compare.cues import multilingual
from compare.cues.detect import detect_cues
from compare.model import CueType

REF = date(2025, 11, 21)  # a Friday

# (language, statement, cue type, expected normalised value). Value: numbers (value, unit, qualifier);
# dates the ISO date, weekday or (month, part); names the canonical key; attribution the source;
# loaded terms the frame; hedge/negation the matched word.
LABELLED = [
    ("ru", "По данным Минобороны, более 80% Волчанска под контролем войск.", "number", (80, "%", ">")),
    ("uk", "Окупанти контролюють понад 80 відсотків Вовчанська.", "number", (80, "%", ">")),
    ("ru", "Под контролем находится свыше восьмидесяти процентов города.", "number", (80, "%", ">")),
    ("uk", "Місто залишили майже дев'яносто відсотків мешканців.", "number", (90, "%", "~<")),
    ("ru", "В городе остаются около 3 тысяч человек.", "number", (3000, "people", "~")),
    ("uk", "У місті досі залишаються близько двох тисяч мешканців.", "number", (2000, "resident", "~")),
    ("ru", "Эвакуированы не менее 12 мирных жителей.", "number", (12, "civilian", ">=")),
    ("uk", "Евакуювали щонайменше дванадцять цивільних.", "number", (12, "civilian", ">=")),
    ("ru", "Ранены двое, в том числе пятеро детей? Нет: ранены пять детей.", "number", (5, "children", "=")),
    ("uk", "Поранено двох цивільних.", "number", (2, "civilian", "=")),
    ("ru", "До Харькова около 120 километров.", "number", (120, "kilometre", "~")),
    ("uk", "До Харкова близько 100 кілометрів.", "number", (100, "kilometre", "~")),
    ("ru", "Ущерб составил 1,5 млн долларов.", "number", (1_500_000, "dollar", "=")),
    ("uk", "Без світла лишилися 6 тисяч домогосподарств.", "number", (6000, None, "=")),
    ("ru", "В группировке около 15 тыс. военных.", "number", (15000, "soldier", "~")),
    ("ru", "Штурм начался 21 ноября.", "date", "2025-11-21"),
    ("uk", "Штурм почався 20 листопада 2025 року.", "date", "2025-11-20"),
    ("ru", "Видео сняли в четверг.", "date", "2025-11-20"),
    ("uk", "Генштаб у п’ятницю спростував заяви.", "date", "2025-11-21"),
    ("uk", "Генштаб у пʼятницю спростував заяви.", "date", "2025-11-21"),
    ("ru", "Об этом стало известно вчера.", "date", "2025-11-20"),
    ("uk", "Про це повідомили сьогодні.", "date", "2025-11-21"),
    ("ru", "Первые группы вошли в город в конце октября.", "date", (10, "late")),
    ("uk", "Перші групи зайшли в місто наприкінці жовтня.", "date", (10, "late")),
    ("ru", "Доклад от 21.11.2025 опубликован утром.", "date", "2025-11-21"),
    ("ru", "Бои идут в Купянске.", "place", "Kupyansk"),
    ("uk", "Бої тривають у Куп’янську.", "place", "Kupyansk"),
    ("uk", "Бої тривають у Куп'янську.", "place", "Kupyansk"),
    ("ru", "Более 80% Волчанска под контролем.", "place", "Vovchansk"),
    ("uk", "Понад 80% Вовчанська під контролем.", "place", "Vovchansk"),
    ("ru", "Видео сняли в селе Петропавловка.", "place", "Petropavlivka"),
    ("uk", "Відео зняли в селі Петропавлівка.", "place", "Petropavlivka"),
    ("ru", "Войска прошли под рекой Оскол.", "place", "Oskil"),
    ("ru", "Начальник Генштаба Валерий Герасимов доложил об этом.", "entity", "Valery Gerasimov"),
    ("uk", "Про це доповів Валерій Герасимов.", "entity", "Valery Gerasimov"),
    ("ru", "Об этом доложили Владимиру Путину.", "entity", "Vladimir Putin"),
    ("ru", "Командир бригады «Пятнашка» Ахра Авидзба заявил об этом.", "entity", "Akhra Avidzba"),
    ("ru", "По данным Минобороны, город взят.", "attribution", "Defence Ministry"),
    ("uk", "За даними Генштабу, бої тривають.", "attribution", "General Staff"),
    ("ru", "Бои продолжаются, сообщили местные власти.", "attribution", "местные власти"),
    ("uk", "Бої тривають, повідомили в поліції.", "attribution", "поліції"),
    ("ru", "Герасимов доложил Путину о ситуации.", "attribution", "Valery Gerasimov"),
    ("ru", "Войска якобы прошли по трубе.", "hedge", "якобы"),
    ("uk", "Окупанти нібито взяли місто під контроль.", "hedge", "нібито"),
    ("ru", "Это не удалось независимо проверить.", "hedge", "не удалось независимо проверить"),
    ("ru", "Генштаб опроверг эти сведения.", "negation", "опроверг"),
    ("uk", "Генштаб заперечив ці відомості.", "negation", "заперечив"),
    ("uk", "Генштаб спростував заяви Москви.", "negation", "спростував"),
    ("ru", "Войска освободили Купянск.", "loaded", "liberation"),
    ("uk", "Москва заявила про звільнення міста.", "loaded", "liberation"),
    ("ru", "Москва заявила о захвате города.", "loaded", "capture"),
    ("uk", "Генштаб спростував захоплення міста.", "loaded", "capture"),
    ("uk", "Окупанти контролюють частину міста.", "loaded", "occupation"),
    ("ru", "Операция носит оборонительный характер.", "loaded", "defence"),
]


def _normalised(cue, kind: str):  # type: ignore[no-untyped-def]
    value = cue.value if isinstance(cue.value, dict) else {}
    if kind == "number":
        return (value.get("value"), value.get("unit"), value.get("qualifier"))
    if kind == "date":
        if "iso" in value:
            return value["iso"]
        if "weekday" in value:
            return value["weekday"]
        return (value.get("month"), value.get("part"))
    if kind in ("place", "entity"):
        return value.get("canonical")
    if kind == "attribution":
        return cue.source
    if kind == "loaded":
        return value.get("frame")
    return cue.text.lower()


def _hit(language: str, text: str, kind: str, expected) -> bool:  # type: ignore[no-untyped-def]
    cues = detect_cues(text, language=language, reference=REF)
    return any(c.type.value == kind and _normalised(c, kind) == expected for c in cues)


def test_labelled_ru_uk_cues_are_normalised_at_least_95_percent() -> None:
    misses = [(lang, text, kind, exp) for lang, text, kind, exp in LABELLED if not _hit(lang, text, kind, exp)]
    accuracy = 1 - len(misses) / len(LABELLED)
    assert accuracy >= 0.95, f"{accuracy:.2%} correct; misses: {misses}"


@pytest.mark.parametrize("spelling", ["Kupyansk", "Kupiansk", "Купянск", "Купянске", "Куп'янськ", "Купʼянськ",
                                      "Куп’янську"])
def test_kupyansk_is_one_place_in_every_script_and_spelling(spelling: str) -> None:
    assert multilingual.canonical_name(spelling) == "Kupyansk"


@pytest.mark.parametrize("spelling", ["Volchansk", "Vovchansk", "Волчанск", "Волчанска", "Вовчанськ",
                                      "Вовчанська"])
def test_vovchansk_is_one_place_in_every_script_and_spelling(spelling: str) -> None:
    assert multilingual.canonical_name(spelling) == "Vovchansk"


def test_unknown_cyrillic_names_are_romanised_from_their_nominative() -> None:
    assert multilingual.canonical_name("Иванову") == multilingual.canonical_name("Иванов") == "Ivanov"
    assert multilingual.transliterate("Харків", "uk") == "Kharkiv"


def test_numbers_inside_dates_and_years_are_not_quantities() -> None:
    cues = detect_cues("21 ноября 2025 года в 2022 году", language="ru", reference=REF)
    assert not [c for c in cues if c.type == CueType.NUMBER]


def test_qualifier_negation_is_not_a_denial() -> None:
    cues = detect_cues("Эвакуированы не менее 12 человек.", language="ru", reference=REF)
    assert not [c for c in cues if c.type == CueType.NEGATION]


def test_english_and_russian_figures_get_the_same_key() -> None:
    en = detect_cues("Over 80% of Volchansk is under Russian control.", language="en", reference=REF)
    ru = detect_cues("Более 80% Волчанска находится под контролем.", language="ru", reference=REF)
    key = {(c.value["value"], c.value["unit"]) for c in en if c.type == CueType.NUMBER}
    assert key == {(c.value["value"], c.value["unit"]) for c in ru if c.type == CueType.NUMBER} == {(80, "%")}


def test_frames_are_shared_across_languages() -> None:
    frames = {
        lang: {c.value["frame"] for c in detect_cues(text, language=lang) if c.type == CueType.LOADED}
        for lang, text in (("en", "Troops liberated the town."), ("ru", "Войска освободили город."),
                           ("uk", "Війська звільнили місто."))
    }
    assert frames["en"] == frames["ru"] == frames["uk"] == {"liberation"}


def test_a_sentence_in_another_language_gets_its_own_language() -> None:
    assert multilingual.statement_language("Генштаб ЗСУ спростував заяви про захоплення міста.", "en") == "uk"
    assert multilingual.statement_language("Генштаб опроверг сообщения о захвате города.", "en") == "ru"
    assert multilingual.statement_language("Генштаб ЗСУ спростував заяви про захоплення міста.", "ru") == "uk"
    assert multilingual.statement_language("The General Staff denied the claim on Friday.", "uk") == "en"
    assert multilingual.statement_language("Kupiansk", "ru") == "ru"  # too short to switch


def _event_differences(*statements: tuple[str, str]) -> list:  # type: ignore[type-arg]
    """One aligned event of one statement per outlet, each in its own language."""
    from compare.differ.detect import find_differences
    from compare.model import Document, Event, Statement

    documents, items = [], []
    for i, (language, text) in enumerate(statements):
        documents.append(Document(f"d{i}", f"Outlet {i}", text, language=language))
        items.append(Statement(f"d{i}", 0, 0, len(text), text, language,
                               detect_cues(text, language=language, reference=REF)))
    event = Event("E1", tuple(s.ref for s in items), tuple(d.doc_id for d in documents), 1.0)
    return list(find_differences(documents, items, [event], []))


def test_russian_and_ukrainian_locations_are_compared_by_place_and_part() -> None:
    diffs = _event_differences(("ru", "Видео сняли в центре Купянска."), ("uk", "Відео зняли в селі Петропавлівка."))
    assert [d for d in diffs if d.type.value == "place"]
    same = _event_differences(("ru", "Бои идут в центре Купянска."), ("uk", "Бої тривають у центрі Куп’янська."))
    assert not [d for d in same if d.type.value == "place"]


def test_a_capital_standing_for_its_government_is_not_a_location() -> None:
    diffs = _event_differences(("ru", "В Москве подчеркивают, что операция носит оборонительный характер."),
                               ("uk", "У Києві це вважають спробою окупації."))
    assert not [d for d in diffs if d.type.value == "place"]


def test_the_speaker_after_a_dative_addressee_is_the_source() -> None:
    text = ("Войска освободили Купянск, в пятницу доложил президенту Владимиру Путину начальник Генштаба "
            "Валерий Герасимов.")
    (cue,) = [c for c in detect_cues(text, language="ru", reference=REF) if c.type == CueType.ATTRIBUTION]
    assert cue.source == "Valery Gerasimov"


def test_a_time_adverbial_between_subject_and_verb_keeps_the_subject_as_source() -> None:
    text = "Російське Міноборони ще в четвер оголосило, що окупанти взяли місто під контроль."
    (cue,) = [c for c in detect_cues(text, language="uk", reference=REF) if c.type == CueType.ATTRIBUTION]
    assert cue.source
