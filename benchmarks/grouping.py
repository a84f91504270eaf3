"""Story grouping on ECB+ dev: B-cubed P/R/F1 and adjusted Rand index against the gold sub-topics.

Each ECB+ topic mixes articles about two look-alike real events (its two sub-topics); a story id is
(topic, sub-topic). Two settings:
  per topic  - group the documents of one topic at a time (can it split the look-alikes?), macro mean;
  overall    - group all dev documents at once (42 true stories).
Documents have no dates, so the time window plays no part. Articles have no titles: the lead is the
first sentences. The data is read from ../shared/eval and never copied.

    .venv/bin/python benchmarks/grouping.py                 # the shipped settings
    .venv/bin/python benchmarks/grouping.py --tune          # grid over threshold x anchor weight
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from compare.embed.backends import get_embedder
from compare.runs.group import GroupItem, GroupSettings, bcubed, group_all, lead_anchors, lead_text

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
FILES = {"full": "ecbplus_topics_full_dev.jsonl", "topics": "ecbplus_topics_dev.jsonl"}


def load(name: str, model: str) -> list[tuple[int, list[GroupItem], dict[str, str]]]:
    path = SHARED / FILES[name]
    if not path.is_file():
        raise SystemExit(f"{path}: not found (ECB+ dev lives in ../shared/eval).")
    topics = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    embedder = get_embedder(model)
    leads, keys, gold, topic_of = [], [], {}, {}
    for topic in topics:
        for doc in topic["documents"]:
            key = f"{topic['topic']}/{doc['doc_id']}"
            leads.append(lead_text("", "", sentences=doc["sentences"]))
            keys.append(key)
            gold[key] = f"{topic['topic']}/{doc['subtopic']}"
            topic_of[key] = topic["topic"]
    vectors = embedder.encode(leads)
    items = [GroupItem(k, None, np.asarray(v), lead_anchors(lead))
             for k, v, lead in zip(keys, vectors, leads, strict=True)]
    out = []
    for topic in topics:
        mine = [i for i in items if topic_of[i.key] == topic["topic"]]
        out.append((topic["topic"], mine, {i.key: gold[i.key] for i in mine}))
    return out


def score(groups: list[list[str]], gold: dict[str, str]) -> dict[str, float]:
    p, r, f1 = bcubed(groups, gold)
    label = {k: n for n, members in enumerate(groups) for k in members}
    keys = sorted(gold)
    ari = adjusted_rand_score([gold[k] for k in keys], [label[k] for k in keys])
    return {"P": p, "R": r, "F1": f1, "ARI": ari, "stories": len(groups)}


def evaluate(data, settings: GroupSettings) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    per_topic = [score(group_all(items, settings), gold) for _, items, gold in data]
    macro = {k: float(np.mean([s[k] for s in per_topic])) for k in ("P", "R", "F1", "ARI", "stories")}
    every = [i for _, items, _ in data for i in items]
    gold_all = {k: v for _, _, gold in data for k, v in gold.items()}
    overall = score(group_all(every, settings), gold_all)
    return {"per_topic": macro, "overall": overall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", choices=sorted(FILES), default="full")
    parser.add_argument("--model", default="use")
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    clock = time.perf_counter()
    data = load(args.file, args.model)
    n_docs = sum(len(items) for _, items, _ in data)
    print(f"{FILES[args.file]}: {len(data)} topics, {n_docs} documents; embedded in "
          f"{time.perf_counter() - clock:.1f} s ({args.model})")
    if args.tune:
        for weight in (0.0, 0.2, 0.35, 0.5):
            for threshold in (0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.75):
                res = evaluate(data, GroupSettings(threshold=threshold, anchor_weight=weight))
                t, o = res["per_topic"], res["overall"]
                print(f"w={weight:.2f} thr={threshold:.2f}  per-topic F1 {t['F1']:.3f} ARI {t['ARI']:.3f}  "
                      f"overall F1 {o['F1']:.3f} ARI {o['ARI']:.3f} stories {o['stories']:.0f}")
        return
    settings = GroupSettings()
    clock = time.perf_counter()
    res = evaluate(data, settings)
    print(f"settings: threshold {settings.threshold}, anchor weight {settings.anchor_weight} "
          f"(grouping took {time.perf_counter() - clock:.2f} s)")
    print("| setting | B3 P | B3 R | B3 F1 | ARI | stories |")
    print("|---|---|---|---|---|---|")
    for name, r in (("per topic (macro mean of 21)", res["per_topic"]), ("all 496 documents", res["overall"])):
        print(f"| {name} | {r['P']:.3f} | {r['R']:.3f} | {r['F1']:.3f} | {r['ARI']:.3f} | {r['stories']:.1f} |")


if __name__ == "__main__":
    main()
