"""benchmarks/rebuild_allsides_gold.py on a fake mini checkout (invented text: no AllSides article text
is in the repository), and the shipped offsets file's shape."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compare.evaluation.claim_gold import load_claim_gold

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "corpora" / "claim_gold" / "allsides_claims.offsets.jsonl"


def _script() -> Any:
    path = ROOT / "benchmarks" / "rebuild_allsides_gold.py"
    spec = importlib.util.spec_from_file_location("rebuild_allsides_gold", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REBUILD = _script()
TEXTS = {
    "data/jsons/aaa.json": "Officials said the bridge reopened on Monday. Traffic was light.\n\n"
                           "A spokesman said “repairs cost $2m”.",
    "data/jsons/bbb.json": "The bridge is open again. Repairs cost two million dollars, the city said.",
}
COMMIT = "0" * 40


def _offsets(tmp_path: Path, commit: str = COMMIT, **override: str) -> Path:
    def doc(doc_id: str, rel: str, spans: list[list[int]]) -> dict[str, Any]:
        text = TEXTS[rel]
        return {"doc_id": doc_id, "outlet": f"Outlet {doc_id}", "allsides_bias": "center",
                "article_title": f"Title {doc_id}", "date": "2020-01-02", "url": f"https://example.org/{doc_id}",
                "path": rel, "text_sha1": override.get(doc_id, hashlib.sha1(text.encode("utf-8")).hexdigest()),
                "spans": spans}

    pair = {"a": ["A", 0], "b": ["B", 0], "confidence": "sure", "claim": "the bridge reopened", "differences": []}
    story = {"id": "real_x", "title": "Bridge reopens", "source": {"repo": "ramybaly/Article-Bias-Prediction",
                                                                  "commit": commit},
             "documents": [doc("A", "data/jsons/aaa.json", [[0, 45], [46, 64], [66, 102]]),
                           doc("B", "data/jsons/bbb.json", [[0, 25], [26, 74]])],
             "annotations": [{"annotator": "1", "pairs": [pair]}, {"annotator": "2", "pairs": [pair]}]}
    path = tmp_path / "offsets.jsonl"
    path.write_text(json.dumps(story, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _checkout(root: Path) -> Path:
    for rel, text in TEXTS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps({"title": "t", "content": text.lower(), "content_original": text}),
                                encoding="utf-8")
    return root


def _run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = REBUILD.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_rebuilds_sentences_from_a_checkout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data" / "gold.jsonl"
    code, stdout, _ = _run(capsys, _checkout(tmp_path / "co"), "--offsets", _offsets(tmp_path), "-o", out)
    assert code == 0 and "1 stories, 5 sentences" in stdout
    story = json.loads(out.read_text(encoding="utf-8"))
    assert list(story) == ["id", "title", "documents", "annotations"]
    a, b = story["documents"]
    assert a == {"doc_id": "A", "outlet": "Outlet A", "title": "Title A", "url": "https://example.org/A",
                 "published": "2020-01-02", "sentences": ["Officials said the bridge reopened on Monday.",
                                                          "Traffic was light.",
                                                          "A spokesman said “repairs cost $2m”."]}
    assert b["sentences"] == ["The bridge is open again.", "Repairs cost two million dollars, the city said."]
    gold = load_claim_gold(out)[0]  # the claim-gold format storydiff eval reads
    assert gold.annotators == {"1", "2"} and len(gold.sure) == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
@pytest.mark.parametrize("kind", ["dot-git", "bare"])
def test_reads_a_git_directory_at_the_recorded_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      kind: str) -> None:
    work = _checkout(tmp_path / "work")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "articles"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (work / "data" / "jsons" / "aaa.json").write_text('{"content_original": "changed after the commit"}')
    source = work / ".git"
    if kind == "bare":
        source = tmp_path / "bare.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(source)], check=True)
    out = tmp_path / "gold.jsonl"
    code, _, err = _run(capsys, source, "--offsets", _offsets(tmp_path, commit), "-o", out)
    assert code == 0, err
    assert json.loads(out.read_text())["documents"][0]["sentences"][1] == "Traffic was light."

    code, _, err = _run(capsys, source, "--offsets", _offsets(tmp_path, "1" * 40), "-o", out)
    assert code == 2 and f"commit {'1' * 40} is not in this git directory" in err and err.count("\n") == 1


def test_a_changed_text_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gold.jsonl"
    offsets = _offsets(tmp_path, B="f" * 40)
    code, stdout, err = _run(capsys, _checkout(tmp_path / "co"), "--offsets", offsets, "-o", out)
    assert code == 2 and not stdout and err.count("\n") == 1
    assert "data/jsons/bbb.json (story real_x, document B)" in err and "differs from the recorded " + "f" * 40 in err
    assert not out.exists()


def test_a_missing_checkout_or_article_is_refused_with_one_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    offsets = _offsets(tmp_path)
    code, _, err = _run(capsys, tmp_path / "nowhere", "--offsets", offsets, "-o", tmp_path / "gold.jsonl")
    assert code == 2 and "no such folder" in err and err.count("\n") == 1
    code, _, err = _run(capsys, tmp_path, "--offsets", offsets, "-o", tmp_path / "gold.jsonl")
    assert code == 2 and "neither a checkout" in err and err.count("\n") == 1
    checkout = _checkout(tmp_path / "co")
    (checkout / "data" / "jsons" / "bbb.json").unlink()
    code, _, err = _run(capsys, checkout, "--offsets", offsets, "-o", tmp_path / "gold.jsonl")
    assert code == 2 and "bbb.json: missing from the checkout" in err and err.count("\n") == 1
    assert not (tmp_path / "gold.jsonl").exists()


def test_the_shipped_offsets_hold_no_article_text_and_fit_their_annotations() -> None:
    stories = REBUILD.load_offsets(SHIPPED)
    assert len(stories) == 4
    for story in stories:
        assert story["source"]["commit"] == "ced8111a720948e6a410e52031ace99c4e53f096"
        sizes = {}
        for doc in story["documents"]:
            assert not {"text", "sentences", "content", "content_original"} & set(doc), doc["doc_id"]
            assert len(doc["text_sha1"]) == 40 and doc["path"].startswith("data/jsons/")
            ends = [x for span in doc["spans"] for x in span]
            assert ends == sorted(ends) and all(s < e for s, e in doc["spans"])
            sizes[doc["doc_id"]] = len(doc["spans"])
        assert {a["annotator"] for a in story["annotations"]} == {"1", "2"}
        for annotation in story["annotations"]:
            for pair in annotation["pairs"]:
                for doc_id, index in (pair["a"], pair["b"]):
                    assert 0 <= index < sizes[doc_id], (story["id"], pair)
