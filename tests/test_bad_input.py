"""Bad input gets one clear line, exit code 2, and leaves the output folder exactly as it was.

Every case runs the real CLI in a subprocess (`python -m compare compare ...`) against an output
folder that already holds an older report; after the failed run the folder must be byte-for-byte
unchanged (no partial, mixed or stale output) and stderr must be a single line naming the culprit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

EN_A = "The mayor said 12 people were hurt in the fire on Monday. Firefighters arrived within minutes."
EN_B = "Officials said 15 people were injured in the blaze on Tuesday. The cause is not yet known."


# ------------------------------------------------------------------------------------------ builders

def story_json(path: Path, documents: list[dict], **extra: object) -> Path:
    path.write_text(json.dumps({"id": "s", "title": "T", "documents": documents, **extra}), "utf-8")
    return path


def two_docs(**override: object) -> list[dict]:
    return [{"doc_id": "a", "outlet": "A", "text": EN_A, **override}, {"doc_id": "b", "outlet": "B", "text": EN_B}]


def folder(tmp: Path, manifest: str, files: dict[str, bytes | str] | None = None) -> Path:
    """A story folder; `files` defaults to two good articles a.txt and b.txt."""
    story = tmp / "story"
    story.mkdir()
    if files is None:
        files = {"a.txt": EN_A, "b.txt": EN_B}
    for name, content in files.items():
        target = story / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, "utf-8")
        else:
            target.write_bytes(content)
    (story / "story.toml").write_text(manifest, "utf-8")
    return story


def article_entry(path: str, outlet: str = "Outlet", **extra: str) -> str:
    lines = ["[[articles]]", f"path = {json.dumps(path)}", f"outlet = {json.dumps(outlet)}"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


GOOD_B = article_entry("b.txt", "B")


def with_article(name: str, content: bytes | str) -> Callable[[Path], tuple[list[str], str]]:
    """A two-article folder whose first article is `name` with `content`; the error must name it."""
    def build(tmp: Path) -> tuple[list[str], str]:
        story = folder(tmp, article_entry(name, "A") + GOOD_B, {name: content, "b.txt": EN_B})
        return [str(story)], name
    return build


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], tuple[list[str], str]]  # tmp -> (CLI args before options, text stderr must name)
    options: tuple[str, ...] = ()
    also: str | None = None  # another substring stderr must contain (e.g. line and column)
    wrapper: str | None = None  # Python code run before main() in the subprocess (simulated faults)
    marks: tuple = ()


# ----------------------------------------------------------------------------------------- the table

def _nonexistent(tmp: Path):
    return [str(tmp / "no-such-story")], "no-such-story"


def _empty_json(tmp: Path):
    (tmp / "empty.json").write_bytes(b"")
    return [str(tmp / "empty.json")], "empty.json"


def _one_doc_json(tmp: Path):
    return [str(story_json(tmp / "one.json", two_docs()[:1]))], "one.json"


def _one_doc_folder(tmp: Path):
    return [str(folder(tmp, article_entry("a.txt", "A")))], "story"


def _dup_id_json(tmp: Path):
    docs = two_docs()
    docs[1]["doc_id"] = "a"
    return [str(story_json(tmp / "dup.json", docs))], "dup.json"


def _dup_id_manifest(tmp: Path):
    return [str(folder(tmp, article_entry("a.txt", "A", id='"x"') + article_entry("b.txt", "B", id='"x"')))], "story"


def _same_file_twice(tmp: Path):
    return [str(folder(tmp, article_entry("a.txt", "A") + article_entry("./a.txt", "B")))], "story.toml"


def _bad_toml(tmp: Path):
    return [str(folder(tmp, 'title = "x"\n[[articles]\npath = "a.txt"\n'))], "story.toml"


def _bad_json(tmp: Path):
    (tmp / "bad.json").write_text('{"documents": [\n  {"doc_id": "a", "text": "x"},\n  {"doc_id": }\n]}')
    return [str(tmp / "bad.json")], "bad.json"


def _bad_jsonl(tmp: Path):
    good = json.dumps({"id": "one", "documents": two_docs()})
    (tmp / "s.jsonl").write_text(good + "\n" + good[:-5] + "\n")
    return [str(tmp / "s.jsonl")], "s.jsonl"


def _jsonl_missing_story(tmp: Path):
    (tmp / "s.jsonl").write_text(json.dumps({"id": "one", "documents": two_docs()}) + "\n")
    return [str(tmp / "s.jsonl"), "--story", "two"], "s.jsonl"


def _deep_json(tmp: Path):
    (tmp / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    return [str(tmp / "deep.json")], "deep.json"


def _json_top_list(tmp: Path):
    (tmp / "list.json").write_text(json.dumps(two_docs()))
    return [str(tmp / "list.json")], "list.json"


def _json_documents_object(tmp: Path):
    (tmp / "obj.json").write_text(json.dumps({"documents": {"a": EN_A}}))
    return [str(tmp / "obj.json")], "obj.json"


def _json_text_number(tmp: Path):
    return [str(story_json(tmp / "num.json", two_docs(text=12)))], "num.json"


def _json_title_list(tmp: Path):
    return [str(story_json(tmp / "title.json", two_docs(title=["x"])))], "title.json"


def _json_all_empty(tmp: Path):
    return [str(story_json(tmp / "blank.json", [{"doc_id": "a", "text": " "}, {"doc_id": "b", "text": "\n"}]))], \
        "blank.json"


def _json_not_utf8(tmp: Path):
    data = json.dumps({"documents": [{"doc_id": "a", "text": "Купянск"}, {"doc_id": "b", "text": "Харьков"}]},
                      ensure_ascii=False)
    (tmp / "cp.json").write_bytes(data.encode("cp1251"))
    return [str(tmp / "cp.json")], "cp.json"


def _too_many_docs_json(tmp: Path):
    docs = [{"doc_id": f"d{i}", "outlet": f"O{i}", "text": f"Item {i} happened."} for i in range(3000)]
    return [str(story_json(tmp / "many.json", docs))], "many.json"


def _too_many_files(tmp: Path):
    files = {f"a{i}.txt": f"Tiny article number {i}." for i in range(2500)}
    manifest = "".join(article_entry(f"a{i}.txt", f"O{i}") for i in range(2500))
    return [str(folder(tmp, manifest, files))], "story.toml"


def _huge_article(tmp: Path):
    line = (EN_A + " ") * 100 + "\n\n"
    text = line * (50 * 1024 * 1024 // len(line) + 1)  # a real 50 MB text article
    return with_article("huge.txt", text)(tmp)


def _no_manifest(tmp: Path):
    (tmp / "story").mkdir()
    (tmp / "story" / "a.txt").write_text(EN_A)
    return [str(tmp / "story")], "story.toml"


def _manifest_no_articles(tmp: Path):
    return [str(folder(tmp, 'title = "Nothing here"\n'))], "story.toml"


def _manifest_articles_string(tmp: Path):
    return [str(folder(tmp, 'articles = "a.txt"\n'))], "story.toml"


def _missing_path(tmp: Path):
    return [str(folder(tmp, '[[articles]]\noutlet = "A"\n' + GOOD_B))], "story.toml"


def _missing_outlet(tmp: Path):
    return [str(folder(tmp, '[[articles]]\npath = "a.txt"\n' + GOOD_B))], "a.txt"


def _outlet_number(tmp: Path):
    return [str(folder(tmp, '[[articles]]\npath = "a.txt"\noutlet = 5\n' + GOOD_B))], "outlet"


def _synthetic_string(tmp: Path):
    return [str(folder(tmp, article_entry("a.txt", "A", synthetic='"yes"') + GOOD_B))], "synthetic"


def _bad_published(tmp: Path):
    return [str(folder(tmp, article_entry("a.txt", "A", published='"last Tuesday"') + GOOD_B))], "published"


def _traversal(tmp: Path):
    return [str(folder(tmp, article_entry("../../../../../../etc/passwd", "A") + GOOD_B))], "etc/passwd"


def _absolute(tmp: Path):
    return [str(folder(tmp, article_entry("/etc/passwd", "A") + GOOD_B))], "/etc/passwd"


def _symlink_out(tmp: Path):
    secret = tmp / "secret.txt"
    secret.write_text("Top secret text outside the story folder.")
    story = folder(tmp, article_entry("link.txt", "A") + GOOD_B)
    (story / "link.txt").symlink_to(secret)
    return [str(story)], "link.txt"


def _directory_article(tmp: Path):
    story = folder(tmp, article_entry("sub", "A") + GOOD_B)
    (story / "sub").mkdir()
    return [str(story)], "sub"


def _missing_article(tmp: Path):
    return [str(folder(tmp, article_entry("gone.txt", "A") + GOOD_B))], "gone.txt"


def _fifo_article(tmp: Path):
    story = folder(tmp, article_entry("pipe.txt", "A") + GOOD_B)
    os.mkfifo(story / "pipe.txt")
    return [str(story)], "pipe.txt"


def _html_without_text(tmp: Path):
    html = ("<html><head><script>var x = 1;</script><style>p { color: red }</style></head>"
            "<body><img src='photo.jpg' alt=''><script>document.write('hi')</script></body></html>")
    return with_article("empty.html", html)(tmp)


def _model_missing(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "--model", "/nonexistent"], "/nonexistent"


def _model_not_a_model(tmp: Path):
    (tmp / "fake-model").mkdir()
    (tmp / "fake-model" / "notes.txt").write_text("not a model")
    return [str(story_json(tmp / "ok.json", two_docs())), "--model", str(tmp / "fake-model")], "fake-model"


def _output_is_file(tmp: Path):
    (tmp / "taken").write_text("a file, not a folder")
    return [str(story_json(tmp / "ok.json", two_docs())), "-o", str(tmp / "taken" / "out")], "taken"


def _output_read_only_fs(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "-o", "/sys/storydiff-out"], "/sys/storydiff-out"


def _output_no_permission(tmp: Path):
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return [str(story_json(tmp / "ok.json", two_docs())), "-o", str(locked / "out")], "locked"


def _unknown_format(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "--format", "html,docx"], "docx"


def _bad_page_size(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "--page-size", "A4; } body { background: red"], \
        "--page-size"


def _bad_threshold(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "--threshold", "2"], "--threshold"


def _full_disk(tmp: Path):
    return [str(story_json(tmp / "ok.json", two_docs())), "--format", "json,html"], "out"


# Simulated full disk: files may not grow past 2 KB (the reports are larger); SIGXFSZ is ignored so
# the write fails with EFBIG like it would with ENOSPC instead of killing the process.
FSIZE_LIMIT = (
    "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))"
)
RANDOM_BYTES = bytes((i * 7919 + 13) % 256 for i in range(4096))

CASES = [
    Case("nonexistent-input", _nonexistent),
    Case("empty-story-json", _empty_json),
    Case("empty-article", with_article("a.txt", b"")),
    Case("whitespace-article", with_article("a.txt", b"  \n\t\n  ")),
    Case("binary-article", with_article("a.txt", RANDOM_BYTES)),
    Case("png-as-article", with_article("photo.txt", b"\x89PNG\r\n\x1a\n" + RANDOM_BYTES)),
    Case("pdf-as-article", with_article("paper.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")),
    Case("zip-as-article", with_article("doc.html", b"PK\x03\x04" + RANDOM_BYTES)),
    Case("invalid-utf8", with_article("broken.txt", ("Привет, это статья о событиях. " * 20).encode() + b"\xff\xc3("),
         also="invalid UTF-8 at byte"),
    Case("story-json-not-utf8", _json_not_utf8),
    Case("article-50mb", _huge_article, also="--max-article-mb", marks=(pytest.mark.slow,)),
    Case("article-over-small-limit", with_article("a.txt", EN_A * 40), options=("--max-article-mb", "0.001")),
    Case("thousands-of-docs-json", _too_many_docs_json, also="--max-documents"),
    Case("thousands-of-tiny-files", _too_many_files, also="--max-documents"),
    Case("one-document-json", _one_doc_json, also="at least 2"),
    Case("one-document-folder", _one_doc_folder, also="at least 2"),
    Case("duplicate-id-json", _dup_id_json, also="duplicate"),
    Case("duplicate-id-manifest", _dup_id_manifest, also="duplicate"),
    Case("same-file-listed-twice", _same_file_twice, also="already listed"),
    Case("malformed-toml", _bad_toml, also="line 2, column"),
    Case("malformed-json", _bad_json, also="line 3, column 14"),
    Case("malformed-jsonl-line", _bad_jsonl, also="line 2"),
    Case("jsonl-unknown-story", _jsonl_missing_story, also="two"),
    Case("json-nested-too-deep", _deep_json),
    Case("json-top-level-list", _json_top_list),
    Case("json-documents-not-list", _json_documents_object),
    Case("json-text-wrong-type", _json_text_number, also="text"),
    Case("json-title-wrong-type", _json_title_list, also="title"),
    Case("json-all-documents-empty", _json_all_empty),
    Case("folder-without-manifest", _no_manifest),
    Case("manifest-without-articles", _manifest_no_articles),
    Case("manifest-articles-wrong-type", _manifest_articles_string),
    Case("manifest-missing-path", _missing_path, also="path"),
    Case("manifest-missing-outlet", _missing_outlet, also="outlet"),
    Case("manifest-outlet-wrong-type", _outlet_number),
    Case("manifest-synthetic-wrong-type", _synthetic_string),
    Case("manifest-published-not-a-date", _bad_published),
    Case("path-traversal", _traversal, also="outside the story folder"),
    Case("absolute-path", _absolute, also="outside the story folder"),
    Case("symlink-out-of-folder", _symlink_out, also="outside the story folder"),
    Case("directory-as-article", _directory_article, also="folder"),
    Case("missing-article-file", _missing_article, also="not found"),
    Case("fifo-as-article", _fifo_article, also="not a regular file"),
    Case("html-without-article-text", _html_without_text),
    Case("model-path-missing", _model_missing),
    Case("model-folder-not-a-model", _model_not_a_model),
    Case("output-is-a-file", _output_is_file),
    Case("output-read-only-filesystem", _output_read_only_fs,
         marks=(pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux /sys"),)),
    Case("output-no-permission", _output_no_permission,
         marks=(pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits; see output-read-only-filesystem"),)),
    Case("unknown-format", _unknown_format),
    Case("bad-page-size", _bad_page_size),
    Case("threshold-out-of-range", _bad_threshold),
    Case("full-disk", _full_disk, wrapper=FSIZE_LIMIT, also="cannot write report", marks=(pytest.mark.slow,)),
]

OLD_REPORT = {"report.html": b"<p>old report</p>", "report.json": b'{"old": true}\n', "report.pdf": b"%PDF-old"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(args: list[str], *, wrapper: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "STORYDIFF_CACHE": str(cwd / "cache"),
           "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("STORYDIFF_DEBUG", None)
    if wrapper:
        code = f"{wrapper}\nimport sys\nfrom compare.cli import main\nsys.argv = ['storydiff', *sys.argv[1:]]\nmain()"
        command = [PYTHON, "-c", code, *args]
    else:
        command = [PYTHON, "-m", "compare", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_gives_one_line_exit_2_and_leaves_output_untouched(case: Case, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    args, names = case.build(work)
    out = tmp_path / "out"
    out.mkdir()
    for name, data in OLD_REPORT.items():
        (out / name).write_bytes(data)
    before = snapshot(out)
    has_output = "-o" in args
    cli_args = ["compare", args[0], *(args[1:] if has_output else [*args[1:], "-o", str(out)]),
                "--model", "minilm", "--no-cache", "--quiet", *case.options]
    if "--model" in args:  # the case names its own model
        cli_args = ["compare", *args, "--no-cache", "--quiet", *case.options]
        if not has_output:
            cli_args += ["-o", str(out)]
    result = run_cli(cli_args, wrapper=case.wrapper, cwd=work)

    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"stderr is not one line:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("storydiff: error: "), line
    assert "Traceback" not in line
    assert names in line, f"error does not name {names!r}: {line}"
    if case.also:
        assert case.also in line, f"error lacks {case.also!r}: {line}"
    assert result.stdout == "", result.stdout
    assert snapshot(out) == before, "the failed run changed the output folder"
    leftovers = [p for p in work.rglob("*") if p.name.startswith((".report.", ".storydiff-probe-"))]
    assert not leftovers, leftovers


def test_table_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.slow
def test_identical_text_warns_and_a_successful_run_leaves_no_stale_report(tmp_path: Path) -> None:
    """Decisions: the same text under two ids is compared with a warning (wire copy is common); a
    successful run removes report files of formats it was not asked for, so the folder never mixes runs."""
    work = tmp_path / "work"
    work.mkdir()
    docs = [{"doc_id": "a", "outlet": "A", "text": EN_A}, {"doc_id": "b", "outlet": "B", "text": EN_A},
            {"doc_id": "c", "outlet": "C", "text": EN_B}]
    story = story_json(work / "wire.json", docs)
    out = tmp_path / "out"
    out.mkdir()
    for name, data in OLD_REPORT.items():
        (out / name).write_bytes(data)
    result = run_cli(["compare", str(story), "-o", str(out), "--model", "minilm", "--no-cache", "--quiet",
                      "--format", "html,json"], cwd=work)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("storydiff: warning:")]
    assert len(warnings) == 1 and "'a' and 'b' have identical text" in warnings[0], result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]
    assert json.loads((out / "report.json").read_text("utf-8"))["story"]["id"] == "s"
    assert result.stdout.split() == [str(out / "report.json"), str(out / "report.html")]


def test_encodings_are_detected_and_decoded_right(tmp_path: Path) -> None:
    """cp1251, koi8-r, UTF-16 with BOM, latin-1 and a declared HTML charset all decode to the right text."""
    from compare.corpus.text import read_article

    ru = "Российские войска обстреляли Купянск в понедельник. Погибли два человека, ещё пятеро ранены."
    uk = "Російські війська обстріляли Куп'янськ у понеділок. Загинули двоє людей, ще п'ятеро поранені."
    fr = "Le maire a déclaré que douze personnes étaient blessées à Genève. Ça a été très grave, selon lui."
    cases = {
        "ru-cp1251.txt": (ru.encode("cp1251"), ru),
        "uk-cp1251.txt": (uk.encode("cp1251"), uk),
        "ru-koi8.txt": (ru.encode("koi8_r"), ru),
        "utf16.txt": (uk.encode("utf-16"), uk),
        "utf16be-bom.txt": (b"\xfe\xff" + ru.encode("utf-16-be"), ru),
        "utf8-bom.txt": (b"\xef\xbb\xbf" + fr.encode("utf-8"), fr),
        "latin1.txt": (fr.encode("latin-1"), fr),
        "short-latin1.txt": ("Café déjà vu à Genève.".encode("latin-1"), "Café déjà vu à Genève."),
        "declared.html": (f"<html><head><meta charset='windows-1251'></head><body><p>{ru}</p></body></html>"
                          .encode("cp1251"), ru),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert read_article(tmp_path / name).strip() == expected, name
