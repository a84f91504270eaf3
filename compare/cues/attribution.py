"""Attribution: who says a statement (noun phrases around reporting verbs and markers)."""

from __future__ import annotations

import re

from compare.cues.lexicon import (
    APOS,
    CONTEXT_CHARS,
    NEAR_CHARS,
    Lexicon,
    Rule,
    _after,
    apply,
    blank_before,
    end_before,
    ends_before,
    last_before,
)
from compare.model import Cue, CueType

# ------------------------------------------------------------------------------------ attributions

# Auxiliaries and asides between a subject and its reporting verb ("has also", ", on Monday,"). Each
# repetition starts at a word, with the spaces and at most one comma before it, so a run of spaces can be
# split only one way (the former `\s*,?\s*...\s*` nesting backtracked over every split).
_AUX = re.compile(r"(?:\s*(?:,\s*)?(?:has\s+been|has|have|had|also|repeatedly|previously|later|earlier|again|"
                  r"would|will|was|were|is|are|then|now|separately|publicly|already|once|on\s+\w+day|in\s+a\s+"
                  r"statement|on\s+Telegram|in\s+his\s+nightly\s+address))+\s*$", re.IGNORECASE)
_NP_STOP = {"that", "which", "who", "whom", "when", "while", "because", "but", "if", "as", "after", "before",
            "since", "where", "so", "then", "than", "and", "or", "said", "says", "told", "reported", "was", "were",
            "is", "are", "had", "has", "have", "it", "its", "on", "with", "by", "to", "not", "no", "been",
            "could", "would", "will", "may", "might", "should", "can", "did", "do", "does", "there", "this",
            "these", "those"}
_NP_INNER = {"of", "the", "for", "at", "in", "from", "close", "to", "on", "by", "with"}
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you"}
_NON_AGENT = {"plan", "schedule", "design", "demand", "rules", "law", "tradition", "need", "size"}
_TOKEN_RE = re.compile(rf"[\w{APOS}.&-]+|[,;:!?“”\"()–—]")


def _np_before(text: str, pos: int, depth: int = 0) -> tuple[int, str] | None:
    """The noun phrase that ends at `pos` (the subject of a reporting verb), as (start, text).

    Reads only the CONTEXT_CHARS before `pos` (a phrase is at most 9 words), and follows at most two
    appositive commas back ("A, B, C said" once recursed over the whole list)."""
    lo = max(0, pos - CONTEXT_CHARS)
    if lo:  # start the window at a word boundary, never inside a token
        space = re.compile(r"\s").search(text, lo, pos)
        lo = space.end() if space else pos
    tokens = list(_TOKEN_RE.finditer(text, lo, pos))
    i = len(tokens) - 1
    start = None
    words = 0
    while i >= 0 and words < 9:
        tok = tokens[i].group(0)
        low = tok.lower()
        if not re.match(r"[\w]", tok):
            break
        if low in _NP_STOP and not (low in _NP_INNER and start is not None):
            if low in _PRONOUNS and start is None:
                start = tokens[i].start()
                words += 1
            break
        if low in _PRONOUNS:
            if start is None:
                start = tokens[i].start()
            break
        start = tokens[i].start()
        words += 1
        i -= 1
    if start is None:
        return None
    # Leading linking words are not part of the phrase ("of the ministry" -> "the ministry").
    phrase = text[start:pos].strip()
    while True:
        first = phrase.split(" ", 1)[0].lower()
        if first in _NP_INNER - {"the"} and " " in phrase:
            phrase = phrase.split(" ", 1)[1]
            start = pos - len(text[start:pos].rstrip()) + (len(text[start:pos].rstrip()) - len(phrase))
            continue
        break
    start = text.index(phrase, start) if phrase in text[start:pos] else start
    # Appositive or aside before a comma: "The union's president, Mara Quint, said";
    # "Two residents, speaking on condition of anonymity, said"; "Interfax, quoting an official, said".
    head_end = end_before(text, start)
    if depth < 2 and head_end and text[head_end - 1] == ",":
        prev = _np_before(text, head_end - 1, depth + 1)
        if prev is not None and (prev[0] == 0 or last_before(text, prev[0]) in ".!?“\"") \
                and not re.search(r"\b(?:said|says|told|reported)\b", prev[1]):
            first_word = phrase.split(" ", 1)[0].lower()
            if first_word.endswith("ing") or first_word in ("who", "interviewed", "speaking", "quoting", "citing"):
                return prev  # the aside is dropped
            proper_name = all(w[:1].isupper() for w in phrase.split())
            role_like = len(prev[1].split()) <= 6 and not re.search(r"\b[a-z]+ed\b", prev[1])
            role_start = prev[1][:1].isupper() or prev[1].lower().startswith(("the ", "a ", "an "))
            if proper_name and role_like and role_start:
                return prev[0], text[prev[0]:pos].strip()  # role, then the person's name
    return start, phrase


_NOT_NP_AFTER = re.compile(r"\s+(?:\w+day|Telegram|Facebook|X|state|local|a\b)")


def _np_after(text: str, pos: int) -> tuple[int, str] | None:
    """The noun phrase that starts at `pos` (a source after "according to", "said", "told")."""
    m = re.compile(r"\s+").match(text, pos)
    begin = m.end() if m else pos
    end = begin
    for words, tok in enumerate(_TOKEN_RE.finditer(text, begin)):
        word = tok.group(0)
        low = word.lower().rstrip(".")
        if not re.match(r"\w", word) or (low in _NP_STOP and low not in _NP_INNER) or words >= 8:
            break
        if low in ("on", "in", "at") and words and _NOT_NP_AFTER.match(text, tok.end()):
            break
        end = tok.end()
    if end == begin:
        return None
    phrase = text[begin:end].rstrip(".")
    return begin, phrase


def find_attributions(text: str, lex: Lexicon) -> list[Cue]:
    cues: list[Cue] = []
    matches = sorted(apply(lex.attribution, text), key=lambda rm: (rm[1].start(), -(rm[1].end() - rm[1].start())))
    reach = -1  # the furthest end of a cue so far
    for rule, m in matches:
        # Every cue starts at or before its match, so at or before this one: the furthest end decides.
        if reach > m.start():
            continue
        cue = _attribution_at(text, rule, m)
        if cue is not None:
            cues.append(cue)
            reach = max(reach, cue.end)
    return cues


_NAME_THEN_ROLE = re.compile(rf"[A-Z][\w{APOS}-]+(?:\s+[A-Z][\w{APOS}-]+)+,\s+[^,]{{1,80}},")
_QUOTED_AS_SAYING = re.compile(r"\s+(.+?)\s+as\s+saying\b")


def _attribution_at(text: str, rule: Rule, m: re.Match[str]) -> Cue | None:
    """The attribution one lexicon match makes, if any (reads only the context around the match)."""
    if rule.kind == "marker":
        after = _np_after(text, m.end())
        if after is None or after[1].lower().split()[-1] in _NON_AGENT:
            return None
        return _attribution(text, m.start(), after[0] + len(after[1]), after[1])
    verb = m.group(0).lower()
    aux = ends_before(_AUX, text, m.start(), 2 * NEAR_CHARS)
    subject_end = aux.start() if aux else end_before(text, m.start())
    head_end = end_before(text, subject_end)
    before = _np_before(text, subject_end) if head_end else None
    inverted = not head_end or text[head_end - 1] in ",”\"’"
    if inverted and head_end and text[head_end - 1] == ",":
        candidate = _np_before(text, head_end - 1)
        if candidate and candidate[0] == 0 and "," in candidate[1] and len(candidate[1].split()) <= 8:
            before, inverted = candidate, False  # "The union's president, Mara Quint, said"
        elif head_end <= 2 * CONTEXT_CHARS and _NAME_THEN_ROLE.fullmatch(text, 0, head_end):
            before, inverted = (0, text[:head_end - 1]), False  # "Mara Quint, general secretary of X, said"
    if verb.startswith("quoted"):
        quoted = _QUOTED_AS_SAYING.match(_after(text, m.end()))
        if quoted and before:
            return _attribution(text, before[0], m.end() + quoted.end(), quoted.group(1))
    if before and not inverted:
        return _attribution(text, before[0], m.end(), before[1])
    after = _np_after(text, m.end())
    if inverted and after and head_end:
        # "..., said Anna Berg, a spokeswoman"; "..., the ministry said" has its source before.
        return _attribution(text, m.start(), after[0] + len(after[1]), after[1])
    if blank_before(text, m.start()):
        return None  # "Reports of looting...": a sentence does not start with its reporting verb
    return _attribution(text, m.start(), m.end(), None)


def _attribution(text: str, start: int, end: int, source: str | None) -> Cue:
    while end > start and text[end - 1] in ".,;:!? ":
        end -= 1
    if source:
        source = source.strip().rstrip(".,;:!?")
    return Cue(CueType.ATTRIBUTION, start, end, text[start:end], None, source or None)
