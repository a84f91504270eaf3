"""Fuzz targets for every parser of untrusted input, and hypothesis strategies that feed them.

A target takes bytes and runs one parser the way the CLI does. Raising a `CompareError` (a clear
one-line refusal) is the expected outcome for bad input; any other exception is a crash.

Inputs come from three generators mixed by hypothesis: structured documents built from the format's
grammar (TOML manifests and job files, story JSON, HTML), byte-level mutations of the real seed files
in `fuzz/seeds/<target>/` (flips, inserts, deletes, splices, duplicated chunks), and raw bytes.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
_WORKDIR = Path(tempfile.mkdtemp(prefix="storydiff-fuzz-"))

# Files a fuzzed manifest may name: the seeds' articles plus a few short ones, in every supported format.
ARTICLES = {
    "velmora-courier.txt": "Thousands of dockers walked out at the Port of Velmora on Monday, the union said.",
    "coastal-business-review.html": "<html><body><article><p>The port stood still on Monday as 3,000 dockers "
                                    "walked out, the operator said.</p></article></body></html>",
    "union-voice.md": "# Dockers stand firm\n\nAbout **3,000** members joined the strike, the union said.",
    "state-agency.txt": "Войска обстреляли Купянск в понедельник, сообщило агентство.",
    "kyiv-daily-wire.txt": "Російські війська обстріляли Куп'янськ у понеділок.",
    "northern-observer.md": "Shelling hit Kupiansk on Monday, officials said.",
    "eastern-front-analysis.md": "Analysts said the shelling of Kupiansk continued on Monday.",
    "kharkiv-regional-herald.html": "<p>Обстріл Куп'янська тривав у понеділок, повідомили в ОВА.</p>",
    "a.txt": "The mayor said 12 people were hurt.", "b.txt": "Police said 15 people were injured.",
}


# ------------------------------------------------------------------------------------------ targets

def _fresh(name: str) -> Path:
    folder = _WORKDIR / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _expect_refusal(call: Callable[[], object]) -> None:
    """Run one parse; a CompareError is the right answer to bad input, anything else propagates."""
    from compare.errors import CompareError

    with contextlib.suppress(CompareError):
        call()


def target_manifest(data: bytes) -> None:
    """A story folder whose story.toml is `data` (articles it may name exist)."""
    from compare.corpus.story import load_story

    folder = _fresh("manifest")
    if not (folder / "a.txt").exists():
        for name, text in ARTICLES.items():
            (folder / name).write_text(text, "utf-8")
    (folder / "story.toml").write_bytes(data)
    _expect_refusal(lambda: load_story(folder, max_article_bytes=1024 * 1024))


def target_story_json(data: bytes) -> None:
    """A story JSON file, and the same bytes as a JSON Lines file."""
    from compare.corpus.story import load_story

    folder = _fresh("json")
    for name in ("story.json", "stories.jsonl"):
        (folder / name).write_bytes(data)
        _expect_refusal(lambda name=name: load_story(folder / name, max_article_bytes=1024 * 1024))


def target_html(data: bytes) -> None:
    """Decode and extract one HTML article (also as .txt, where sniffing decides)."""
    from compare.corpus.text import read_article

    folder = _fresh("html")
    for name in ("article.html", "article.txt"):
        (folder / name).write_bytes(data)
        _expect_refusal(lambda name=name: read_article(folder / name, max_bytes=1024 * 1024))


def target_job(data: bytes) -> None:
    """A scheduled-runs job file."""
    from compare.runs.schedule import load_job

    folder = _fresh("job")
    (folder / "job.toml").write_bytes(data)
    _expect_refusal(lambda: load_job(folder / "job.toml"))


def job_parser_available() -> bool:
    try:
        from compare.runs.schedule import load_job  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------------- strategies

# Seeds that live elsewhere in the repository are read in place rather than copied into fuzz/seeds/.
ROOT = HERE.parent
SHARED_SEEDS = {
    "html": [ROOT / "corpora" / "kupyansk" / "kharkiv-regional-herald.html",
             ROOT / "corpora" / "harbor-strike" / "coastal-business-review.html",
             ROOT / "tests" / "payloads" / "remote_resources.html"],
}


def seeds(target: str) -> list[bytes]:
    own = sorted(p for p in (SEEDS / target).glob("*") if p.is_file()) if (SEEDS / target).is_dir() else []
    return [p.read_bytes() for p in [*own, *SHARED_SEEDS.get(target, [])] if p.is_file()]


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A seed with a few byte-level mutations (what coverage-guided fuzzers do first)."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "splice", "repeat", "interesting"]))
        at = draw(st.integers(0, max(0, len(data))))
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "splice":
            other = draw(st.sampled_from(corpus))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start:start + draw(st.integers(1, 200))]
        elif kind == "repeat" and data:
            start = draw(st.integers(0, len(data) - 1))
            chunk = bytes(data[start:start + draw(st.integers(1, 32))])
            data[at:at] = chunk * draw(st.integers(2, 200))
        elif kind == "interesting":
            data[at:at] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


INTERESTING = [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3(", b"\xed\xa0\x80", b'"\\ud800"', b"\\u0000",
               b"[[", b"]]", b"{", b"}", b"[" * 600, b"{" * 600, b"<" * 100, b"<!--", b"<![CDATA[",
               b"<!DOCTYPE html SYSTEM 'file:///etc/passwd'>", b"&#0;", b"&#x110000;", b"\r\n", b"\r",
               b"1e999", b"-0", b"NaN", b"Infinity", b"9" * 400, b"nan", b"inf", b"1979-05-27T07:32:00Z",
               b"../../etc/passwd", b"/etc/passwd", b"/dev/zero", b"\\\\?\\C:\\", b"\xe2\x80\xae", b"%s%n"]

TOML_SCALAR = st.one_of(
    st.text(max_size=30).map(json.dumps), st.integers(-2**70, 2**70).map(str), st.booleans().map(str).map(str.lower),
    st.floats(allow_nan=True).map(lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(f), repr(f))),
    st.sampled_from(["inf", "-inf", "nan", "+nan", "1e308", "-1e308", "5e-324", "0", "-1", "99999999999999999999",
                     "0.0", "-0.0", "true", "[]", "[1, 2]", '["html", "pdf"]', '["docx"]']),
    st.sampled_from(["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "[]", "{}", '["a", 1]', '{ a = 1 }',
                     '"../../etc/passwd"', '"/etc/passwd"', '"a.txt"', '"velmora-courier.txt"', '"."', '""']),
)
# Keys each table of a manifest / job file knows, so generated documents get past key checks and reach
# the value checks; a few unknown keys are mixed in.
MANIFEST_SCHEMA = {
    "": ["title", "description", "id"],
    "[[articles]]": ["path", "outlet", "url", "published", "language", "synthetic", "id", "title"],
}
JOB_SCHEMA = {
    "": ["store", "output"],
    "[options]": ["title", "formats", "min_outlets", "window_hours", "model", "group_model", "threshold",
                  "group_threshold", "host_delay", "timeout", "retries", "backoff", "max_article_mb",
                  "max_redirects", "max_items", "user_agent", "page_size", "base_url", "feed_entries"],
    "[[sources]]": ["outlet", "feed", "url", "folder", "language"],
}


@st.composite
def toml_documents(draw: st.DrawFn, schema: dict[str, list[str]]) -> bytes:
    """Schema-shaped TOML: the right tables and mostly the right keys, with odd values."""
    def key(table: str) -> str:
        if draw(st.integers(0, 9)):
            return draw(st.sampled_from([*schema[table], "x"]))
        return json.dumps(draw(st.text(max_size=5)))

    def pairs(table: str) -> list[str]:
        keys = dict.fromkeys(key(table) for _ in range(draw(st.integers(0, 5))))
        return [f"{k} = {draw(TOML_SCALAR)}" for k in keys]

    lines = pairs("")
    for _ in range(draw(st.integers(0, 5))):
        table = draw(st.sampled_from([*(t for t in schema if t), "[x]"]))
        lines.append(table)
        lines += pairs(table if table in schema else "")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                      st.text(max_size=30))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=12)


@st.composite
def story_json_documents(draw: st.DrawFn) -> bytes:
    """Story-shaped JSON with wrong types, missing fields and odd strings in the right places."""
    def field(name: str) -> dict[str, object]:
        return {name: draw(JSON_VALUE)} if draw(st.booleans()) else {}

    documents = []
    for _ in range(draw(st.integers(0, 4))):
        doc: dict[str, object] = {}
        doc.update({"doc_id": draw(st.one_of(st.text(max_size=5), st.integers(), JSON_VALUE))})
        if draw(st.booleans()):
            doc["text"] = draw(st.one_of(st.text(max_size=80), JSON_VALUE))
        else:
            doc["sentences"] = draw(st.one_of(st.lists(st.text(max_size=40), max_size=4), JSON_VALUE))
        for name in ("outlet", "title", "url", "published", "language"):
            doc.update(field(name))
        documents.append(doc)
    story = {"id": draw(st.one_of(st.text(max_size=8), JSON_VALUE)), "documents": documents}
    story.update(field("title"))
    text = json.dumps(story, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # lone surrogate escapes are valid JSON
        text = text.replace('"', '"\\ud800', 1) if '"' in text else text
    return text.encode("utf-8", "surrogatepass")


TAGS = ["p", "div", "article", "script", "style", "nav", "h1", "li", "ul", "table", "td", "iframe", "svg",
        "math", "template", "noscript", "title", "body", "html", "head", "meta", "br", "a", "img", "pre", "xmp"]


@st.composite
def html_documents(draw: st.DrawFn) -> bytes:
    """Nested, unbalanced and mis-encoded HTML."""
    parts = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["<!DOCTYPE html>", "<html>", "<?xml version='1.0'?>", ""])))
    charset = draw(st.sampled_from(["utf-8", "windows-1251", "latin-1", "utf-16", "bogus", "shift_jis"]))
    if draw(st.booleans()):
        parts.append(f"<meta charset='{charset}'>")
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(st.sampled_from(TAGS))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            parts.append(f"<{tag}>")
        elif choice == 1:
            parts.append(f"</{tag}>")
        elif choice == 2:
            parts.append(draw(st.text(max_size=60)))
        else:
            parts.append(f"<{tag} {draw(st.text(max_size=10))}={json.dumps(draw(st.text(max_size=10)))}>")
    depth = draw(st.integers(0, 3000))
    parts.append("<div>" * depth + "deep text in many divs" + "</div>" * draw(st.integers(0, depth)))
    text = "".join(parts)
    encoding = draw(st.sampled_from(["utf-8", "cp1251", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def strategy_for(name: str) -> st.SearchStrategy[bytes]:
    corpus = seeds(name) or [b""]
    structured = {"manifest": toml_documents(MANIFEST_SCHEMA), "job": toml_documents(JOB_SCHEMA),
                  "story_json": story_json_documents(),
                  "html": html_documents()}[name]
    return st.one_of(mutated(corpus), mutated(corpus), structured, st.binary(max_size=512))


TARGETS: dict[str, tuple[Callable[[bytes], None], st.SearchStrategy[bytes]]] = {
    "manifest": (target_manifest, strategy_for("manifest")),
    "story_json": (target_story_json, strategy_for("story_json")),
    "html": (target_html, strategy_for("html")),
    "job": (target_job, strategy_for("job")),
}
