"""Cross-language alignment and embedding throughput, per backend, in one run.

    .venv/bin/python benchmarks/xling.py [--json results.json]

Reads `../shared/eval/xling_dev.jsonl` (EN/RU/UK translations, shuffled) and
`../shared/eval/ecbplus_topics_dev.jsonl` (English ECB+). For each backend it reports, per language
pair, precision@1 (the top-scoring sentence of the other document is the gold translation) and pair
P/R/F1 of the links the aligner makes at its default threshold; English ECB+ pair F1 and AP with
`--model auto` and with the English default; sentences/s of each backend on the same machine in the
same run; and RU/UK sentence segmentation (razdel + abbreviation merge vs pysbd) on the labelled
articles in tests/data. Everything goes through the code `storydiff compare` runs (segment_documents
-> EmbeddingCache -> align with the backend's own scorer section, compare/data/aligner.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.align.links import link_statements  # noqa: E402
from compare.align.reference import all_pair_scores  # noqa: E402
from compare.align.scorer import default_weights  # noqa: E402
from compare.embed.backends import get_embedder, resolve_backend  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.embed.common import BACKEND_NAMES  # noqa: E402
from compare.model import Document, StatementRef  # noqa: E402
from compare.pipeline import document_language, segment_documents  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
BACKENDS = ("minilm", "use", "e5")
PAIRS = ("en-ru", "en-uk", "ru-uk")


def load(name: str) -> list[dict]:
    path = EVAL / name
    if not path.is_file():
        sys.exit(f"xling: {path} not found (the shared eval data sits next to the repository).")
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def story_documents(story: dict) -> list[Document]:
    docs = []
    for i, d in enumerate(story["documents"]):
        sentences = tuple(d["sentences"])
        docs.append(Document(doc_id=f"{i}:{d['doc_id']}", outlet=d.get("outlet", "unknown"),
                             text="\n".join(sentences), language=d.get("language"), sentences=sentences))
    return docs


def gold_refs(story: dict, docs: list[Document]) -> set[tuple[StatementRef, StatementRef]]:
    gold = set()
    for a, i, b, j, *_ in story["gold_pairs"]:
        ra, rb = StatementRef(docs[a].doc_id, i), StatementRef(docs[b].doc_id, j)
        gold.add((min(ra, rb), max(ra, rb)))
    return gold


def prepare(stories: list[dict]) -> list[tuple[list[Document], tuple, set]]:
    out = []
    for story in stories:
        docs = story_documents(story)
        out.append((docs, segment_documents(docs), gold_refs(story, docs)))
    return out


def throughput(backend: str, texts: list[str]) -> float:
    """Sentences/s for a fresh batch (no cache), after a warm-up that loads the model."""
    embedder = get_embedder(backend)
    embedder.encode(texts[:8])
    clock = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - clock)


def pair_name(statements_by_doc: dict, a: str, b: str) -> str:
    """'en-ru' etc.: the majority statement language of each of the two documents, sorted."""
    def language(doc_id: str) -> str:
        langs = [s.language for s in statements_by_doc[doc_id]]
        return max(sorted(set(langs)), key=langs.count)

    return "-".join(sorted((language(a), language(b))))


def evaluate_xling(prepared, backend: str, cache: EmbeddingCache) -> dict[str, dict[str, float]]:
    """Per language pair P@1 and pair P/R/F1, with the aligner exactly as `storydiff compare` runs it
    (the scorer section for this backend, its threshold)."""
    embedder = get_embedder(backend)
    weights = default_weights(embedder.name)
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for docs, statements, gold in prepared:
        vectors = cache.encode(embedder, [s.text for s in statements])
        by_doc: dict[str, list] = defaultdict(list)
        for s in statements:
            by_doc[s.doc_id].append(s)
        links = link_statements(statements, vectors, weights=weights)
        scores = all_pair_scores(statements, vectors, weights=weights)
        predicted = {(min(lk.a, lk.b), max(lk.a, lk.b)) for lk in links}
        for a_pos, da in enumerate(docs):
            for db in docs[a_pos + 1:]:
                name = pair_name(by_doc, da.doc_id, db.doc_id)
                c = counts[name]
                in_pair = {p for p in predicted if {p[0].doc_id, p[1].doc_id} == {da.doc_id, db.doc_id}}
                g_pair = {p for p in gold if {p[0].doc_id, p[1].doc_id} == {da.doc_id, db.doc_id}}
                c["tp"] += len(in_pair & g_pair)
                c["pred"] += len(in_pair)
                c["gold"] += len(g_pair)
                for src, dst in ((da, db), (db, da)):  # P@1 in both directions
                    for s in by_doc[src.doc_id]:
                        best = max(by_doc[dst.doc_id], key=lambda t, s=s: _score(scores, s.ref, t.ref))
                        c["p1_hit"] += (min(s.ref, best.ref), max(s.ref, best.ref)) in gold
                        c["p1_n"] += 1
    out = {}
    for name, c in counts.items():
        p = c["tp"] / c["pred"] if c["pred"] else 0.0
        r = c["tp"] / c["gold"] if c["gold"] else 0.0
        out[name] = {"p_at_1": c["p1_hit"] / c["p1_n"], "precision": p, "recall": r,
                     "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return out


def _score(scores: dict, a: StatementRef, b: StatementRef) -> float:
    return scores.get((a, b), scores.get((b, a), 0.0))


def evaluate_ecb(prepared, spec: str, cache: EmbeddingCache) -> dict[str, float | str]:
    """Pair P/R/F1 and AP on English ECB+ with the backend `spec` resolves to for each story."""
    tp = npred = ngold = 0
    ranked: list[tuple[float, bool]] = []
    chosen = set()
    for docs, statements, gold in prepared:
        languages = sorted({s.language for s in statements} | {document_language(d) for d in docs})
        embedder = get_embedder(spec, languages=languages)
        chosen.add(embedder.name)
        vectors = cache.encode(embedder, [s.text for s in statements])
        weights = default_weights(embedder.name)
        links = link_statements(statements, vectors, weights=weights)
        predicted = {(min(lk.a, lk.b), max(lk.a, lk.b)) for lk in links}
        tp += len(predicted & gold)
        npred += len(predicted)
        ngold += len(gold)
        for (a, b), score in all_pair_scores(statements, vectors, weights=weights).items():
            ranked.append((score, (min(a, b), max(a, b)) in gold))
    p = tp / npred if npred else 0.0
    r = tp / ngold if ngold else 0.0
    ranked.sort(key=lambda x: -x[0])
    hits, ap = 0, 0.0
    for k, (_, is_gold) in enumerate(ranked, start=1):
        if is_gold:
            hits += 1
            ap += hits / k
    return {"model": ", ".join(sorted(chosen)), "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0, "ap": ap / max(1, ngold)}


# ----------------------------------------------------------------------------------- segmentation

def segmentation() -> dict[str, dict[str, float]]:
    """Exact-sentence recall/precision of razdel (+ merge, what storydiff uses) and pysbd on RU/UK."""
    from razdel import sentenize

    from compare.segment import _pysbd, paragraph_spans, sentence_spans

    data: dict[str, list[str]] = {}
    lang = ""
    for line in (ROOT / "tests" / "data" / "segment_ru_uk.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("@"):
            lang = line[1:]
            data[lang] = []
        else:
            data[lang].append(line)
    out = {}
    for lang, lines in data.items():
        text = "\n\n".join(" ".join(p.split("\n")) for p in "\n".join(lines).split("\n\n"))
        gold = [line for line in lines if line]
        found = {
            "storydiff (razdel + merge)": [text[s:e] for s, e in sentence_spans(text, lang)],
            "razdel": [s.text for ps, pe in paragraph_spans(text) for s in sentenize(text[ps:pe])],
            "pysbd (ru rules)": [p.strip() for ps, pe in paragraph_spans(text)
                                 for p in _pysbd("ru").segment(text[ps:pe]) if p.strip()],
        }
        for name, sentences in found.items():
            hits = len(set(sentences) & set(gold))
            out[f"{lang} {name}"] = {"recall": hits / len(gold), "precision": hits / max(1, len(sentences))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    xling = prepare(load("xling_dev.jsonl"))
    ecb = prepare(load("ecbplus_topics_dev.jsonl"))
    cache = EmbeddingCache(default_cache_path())  # every sentence embedded once per backend, across runs
    every = [s.text for _, statements, _ in xling for s in statements]
    texts = every[:: max(1, len(every) // 600)]  # ~600 EN/RU/UK sentences, the same for every backend
    results: dict = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                     "load_average": os.getloadavg()[0], "sentences_timed": len(texts), "backends": {}}
    for backend in BACKENDS:
        speed = throughput(backend, texts)
        pairs = evaluate_xling(xling, backend, cache)
        results["backends"][backend] = {"name": BACKEND_NAMES[backend], "sentences_per_s": speed,
                                        "scorer": default_weights(BACKEND_NAMES[backend]).version, "pairs": pairs}
        row = " | ".join(f"{p}: P@1 {pairs[p]['p_at_1']:.3f} F1 {pairs[p]['f1']:.3f}" for p in PAIRS if p in pairs)
        print(f"{backend:7s} {speed:7.1f} sent/s | {row}", flush=True)
    for spec in ("minilm", "auto"):
        ecb_result = evaluate_ecb(ecb, spec, cache)
        results[f"ecb_{spec}"] = ecb_result
        print(f"ECB+ --model {spec} ({ecb_result['model']}): P {ecb_result['precision']:.3f} "
              f"R {ecb_result['recall']:.3f} F1 {ecb_result['f1']:.3f} AP {ecb_result['ap']:.3f}", flush=True)
    results["auto_for_ru_uk_en"] = resolve_backend("auto", languages=["en", "ru", "uk"])
    results["segmentation"] = segmentation()
    for name, value in results["segmentation"].items():
        print(f"segmentation {name}: recall {value['recall']:.2f} precision {value['precision']:.2f}")
    print(f"load average during run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
