"""Rebuild the full-text AllSides claim gold from its offsets and a copy of the source repository.

    python benchmarks/rebuild_allsides_gold.py SOURCE [--offsets FILE] [-o .data/allsides_claims.jsonl]

SOURCE is a checkout of github.com/ramybaly/Article-Bias-Prediction (a folder with data/jsons/), or its
git directory (a bare clone, or a checkout's .git), which is read at the commit the offsets name:

    git clone https://github.com/ramybaly/Article-Bias-Prediction
    git -C Article-Bias-Prediction checkout ced8111a720948e6a410e52031ace99c4e53f096

The articles are the outlets' copyright, so the repository keeps only where each annotated sentence lies
(`corpora/claim_gold/allsides_claims.offsets.jsonl`: file, SHA-1 of the text, character spans) and the
annotations. This script reads each article's `content_original`, checks its SHA-1, cuts the spans and
writes the claim gold in the format of docs/claim-gold.md, one story per line, to a git-ignored file
(`benchmarks/fit_claim_scorer.py` picks it up there; `storydiff eval .data/allsides_claims.jsonl` scores it).
Any problem stops it with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OFFSETS = ROOT / "corpora" / "claim_gold" / "allsides_claims.offsets.jsonl"
OUT = ROOT / ".data" / "allsides_claims.jsonl"
REPO = "ramybaly/Article-Bias-Prediction"


class RebuildError(Exception):
    """A one-line message for the user: what is wrong, where, and what to do."""


def load_offsets(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RebuildError(f"{path}: cannot read the offsets file ({exc.strerror or exc}).") from exc
    stories = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            story = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RebuildError(f"{path}:{lineno}: invalid JSON ({exc.msg}, column {exc.colno}).") from exc
        _check_story(story, f"{path}:{lineno}")
        stories.append(story)
    if not stories:
        raise RebuildError(f"{path}: no stories in the offsets file.")
    return stories


def _check_story(story: Any, where: str) -> None:
    if not isinstance(story, dict) or not isinstance(story.get("documents"), list) or not story.get("id"):
        raise RebuildError(f"{where}: not a story with an 'id' and a 'documents' list.")
    if not isinstance(story.get("annotations"), list):
        raise RebuildError(f"{where}: story {story['id']!r} has no 'annotations' list.")
    for doc in story["documents"]:
        ok = isinstance(doc, dict) and doc.get("doc_id") and isinstance(doc.get("path"), str) \
            and isinstance(doc.get("text_sha1"), str) and isinstance(doc.get("spans"), list) \
            and all(isinstance(s, list) and len(s) == 2 and all(type(x) is int for x in s) for s in doc["spans"])
        if not ok:
            raise RebuildError(f"{where}: story {story['id']!r}: each document needs 'doc_id', 'path', "
                               "'text_sha1' and 'spans' ([start, end] pairs).")


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def article_reader(source: Path, commit: str) -> Callable[[str], bytes]:
    """A function from a repository path (data/jsons/X.json) to that file's bytes in `source`."""
    if not source.exists():
        raise RebuildError(f"{source}: no such folder. Pass a checkout or git directory of {REPO} "
                           f"(git clone https://github.com/{REPO}).")
    if not source.is_dir():
        raise RebuildError(f"{source}: not a folder. Pass a checkout or git directory of {REPO}.")
    if (source / "data" / "jsons").is_dir():
        def from_checkout(rel: str) -> bytes:
            try:
                return (source / rel).read_bytes()
            except FileNotFoundError as exc:
                raise RebuildError(f"{source / rel}: missing from the checkout; check out commit {commit} "
                                   f"of {REPO}.") from exc
            except OSError as exc:
                raise RebuildError(f"{source / rel}: cannot read ({exc.strerror or exc}).") from exc
        return from_checkout
    git_dir = source if _is_git_dir(source) else source / ".git" if _is_git_dir(source / ".git") else None
    if git_dir is None:
        raise RebuildError(f"{source}: neither a checkout of {REPO} (no data/jsons/) nor its git directory. "
                           f"Clone it and check out commit {commit}.")
    git = ["git", f"--git-dir={git_dir}"]
    try:
        found = subprocess.run([*git, "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    except OSError as exc:
        raise RebuildError(f"{git_dir}: cannot run git ({exc.strerror or exc}); install git or pass a checkout "
                           "instead of a git directory.") from exc
    if found.returncode != 0:
        raise RebuildError(f"{git_dir}: commit {commit} is not in this git directory; fetch it "
                           f"(git fetch https://github.com/{REPO} {commit}).")

    def from_git(rel: str) -> bytes:
        shown = subprocess.run([*git, "show", f"{commit}:{rel}"], capture_output=True)
        if shown.returncode != 0:
            raise RebuildError(f"{git_dir}: {rel} is not in commit {commit}.")
        return shown.stdout
    return from_git


def _article_text(raw: bytes, where: str) -> str:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RebuildError(f"{where}: not a JSON article file ({exc}).") from exc
    text = data.get("content_original") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise RebuildError(f"{where}: no 'content_original' text in this article file.")
    return text


def rebuild(stories: Sequence[dict[str, Any]], source: Path) -> list[dict[str, Any]]:
    """The full-text claim gold of every story: same ids, titles and annotations, sentences cut from the text."""
    readers: dict[str, Callable[[str], bytes]] = {}
    out = []
    for story in stories:
        commit = str((story.get("source") or {}).get("commit", ""))
        if not commit:
            raise RebuildError(f"story {story.get('id')!r}: the offsets name no source commit.")
        if commit not in readers:
            readers[commit] = article_reader(source, commit)
        read = readers[commit]
        documents = []
        for doc in story["documents"]:
            rel = str(doc.get("path", ""))
            where = f"{rel} (story {story.get('id')}, document {doc.get('doc_id')})"
            text = _article_text(read(rel), where)
            digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
            if digest != doc.get("text_sha1"):
                raise RebuildError(f"{where}: text SHA-1 {digest} differs from the recorded {doc.get('text_sha1')}; "
                                   f"not the text that was annotated. Check out commit {commit} of {REPO}.")
            sentences = []
            for start, end in doc["spans"]:
                if not 0 <= start < end <= len(text):
                    raise RebuildError(f"{where}: span [{start}, {end}] outside the text ({len(text)} characters).")
                sentences.append(text[start:end])
            documents.append({"doc_id": doc["doc_id"], "outlet": doc.get("outlet"),
                              "title": doc.get("article_title"), "url": doc.get("url"),
                              "published": doc.get("date"), "sentences": sentences})
        out.append({"id": story["id"], "title": story.get("title"), "documents": documents,
                    "annotations": _with_words(story["annotations"], documents, story.get("id"))})
    return out


def _with_words(annotations: Sequence[dict[str, Any]], documents: Sequence[dict[str, Any]], story: Any
                ) -> list[dict[str, Any]]:
    """The annotations with each difference's exact words cut from its sentences (`a_span`/`b_span`, offsets
    into the sentence, stand in for `a_words`/`b_words`: no article words are stored in the repository)."""
    sentences = {d["doc_id"]: d["sentences"] for d in documents}
    out = []
    for annotation in annotations:
        pairs = []
        for pair in annotation.get("pairs") or []:
            try:
                texts = {side: sentences[pair[side][0]][pair[side][1]] for side in ("a", "b")}
            except (KeyError, IndexError, TypeError) as exc:
                raise RebuildError(f"story {story!r}: pair {pair.get('a')} ~ {pair.get('b')} points outside the "
                                   "rebuilt sentences.") from exc
            differences = []
            for diff in pair.get("differences") or []:
                restored = {k: v for k, v in diff.items() if not k.endswith("_span")}
                for side in ("a", "b"):
                    span = diff.get(f"{side}_span")
                    restored[f"{side}_words"] = texts[side][span[0]:span[1]] if span else ""
                differences.append(restored)
            pairs.append({**pair, "differences": differences})
        out.append({**annotation, "pairs": pairs})
    return out


def write_jsonl(stories: Sequence[dict[str, Any]], path: Path) -> None:
    """Write atomically: a failed run never leaves half a gold file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stories), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help=f"checkout or git directory of {REPO}")
    parser.add_argument("--offsets", type=Path, default=OFFSETS, help="offsets file (default: %(default)s)")
    parser.add_argument("-o", "--output", type=Path, default=OUT, help="claim gold to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        stories = rebuild(load_offsets(args.offsets), args.source)
        write_jsonl(stories, args.output)
    except RebuildError as exc:
        print(f"rebuild_allsides_gold: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"rebuild_allsides_gold: {args.output}: cannot write ({exc.strerror or exc}).", file=sys.stderr)
        return 2
    sentences = sum(len(d["sentences"]) for s in stories for d in s["documents"])
    print(f"wrote {args.output}: {len(stories)} stories, {sentences} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
