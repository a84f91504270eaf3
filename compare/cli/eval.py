"""`storydiff eval`: the command line of `compare.evaluation.evaluate` (and of
`compare.evaluation.claim_eval` for claim gold).

Parses the options, shows progress on stderr and prints the summary; the measuring is the library's.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from compare.errors import CorpusError
from compare.evaluation.evaluate import dataset_languages, evaluate, format_summary, load_eval_stories


@click.command("eval")
@click.argument("datasets", metavar="DATASET...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", default="auto", show_default=True, metavar="NAME|PATH",
              help="Embedding model: auto, minilm, use, e5, or a local sentence-transformers folder.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None, metavar="X",
              help="Event-level gold only: link score cut-off (default: the shipped event scorer's).")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="FILE", help="Event-level gold only: aligner weights JSON instead of the packaged one.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option("--errors", default=5, show_default=True, type=click.IntRange(0, 100),
              help="Event-level gold only: how many worst false and missed links to show.")
@click.option("--cache/--no-cache", default=True, show_default=True, help="Cache embeddings on disk.")
@click.option("--cue-split", type=click.Choice(["test", "dev", "all"]), default="test", show_default=True,
              help="Cue corpora only: which split to score (test is held out from tuning).")
def eval_command(datasets: tuple[Path, ...], model: str, threshold: float | None, weights_path: Path | None,
                 as_json: bool, errors: int, cache: bool, cue_split: str = "test") -> None:
    """Measure alignment accuracy on annotated JSON Lines data.

    Claim gold (stories with two or more annotators' `annotations`, see docs/claim-gold.md): the claim
    scorer refitted leave-one-story-out, next to baselines whose thresholds are chosen the same way,
    with annotator agreement; several files are pooled. Event-level gold (ECB+ `gold_pairs`): pair
    precision/recall/F1, average precision, precision@1, a P/R curve, the worst errors, and the claim
    aligner's links per statement next to embedding cosine at its best threshold. Cue corpora (`cue_corpus`
    JSON Lines from benchmarks/build_cue_corpora.py): cue P/R/F1 per corpus and type next to a word-list
    baseline (compare/evaluation/cue_eval.py). Progress goes to stderr.
    """
    from compare.evaluation.cue_eval import cue_summary, format_cue_summary, is_cue_corpus

    cue_sets = [d for d in datasets if is_cue_corpus(d)]
    if cue_sets:
        if len(cue_sets) != len(datasets):
            raise CorpusError("eval: pass cue corpora on their own, not with claim or event gold.")
        cue_result = cue_summary(cue_sets, split=cue_split)
        click.echo(json.dumps(cue_result, indent=2) if as_json else format_cue_summary(cue_result))
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from compare.align.scorer import load_weights
    from compare.embed.backends import get_embedder
    from compare.embed.cache import EmbeddingCache, default_cache_path
    from compare.evaluation.claim_eval import claim_summary, format_claim_summary
    from compare.evaluation.claim_gold import is_claim_gold, load_claim_gold
    from compare.pipeline import document_language

    for dataset in datasets:
        if not dataset.is_file():
            raise CorpusError(f"{dataset}: no such file. Pass an evaluation JSON Lines file.")
    kinds = {is_claim_gold(d) for d in datasets}
    if len(kinds) > 1:
        raise CorpusError("eval: pass either claim-gold files or event-gold (gold_pairs) files, not both.")
    store = EmbeddingCache(default_cache_path()) if cache else None
    console = Console(stderr=True)
    progress = Progress(TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
    name = ", ".join(str(d) for d in datasets)
    if kinds == {True}:
        claim_items = [s for d in datasets for s in load_claim_gold(d)]
        languages = dataset_languages([document_language(d) for it in claim_items for d in it.story.documents])
        embedder = get_embedder(model, languages=languages)
        with progress:
            task = progress.add_task(name, total=2 * len(claim_items))
            summary = claim_summary(claim_items, embedder, cache=store,
                                    on_story=lambda done, total: progress.update(task, completed=done))
        summary["dataset"] = name
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2) if as_json else format_claim_summary(summary))
        return
    items = [it for d in datasets for it in load_eval_stories(d)]
    languages = dataset_languages([document_language(d) for it in items for d in it.story.documents])
    embedder = get_embedder(model, languages=languages)
    weights = load_weights(weights_path, embedder.name) if weights_path else None
    with progress:
        task = progress.add_task(name, total=len(items))
        summary = evaluate(items, embedder, threshold=threshold, weights=weights, cache=store,
                           on_story=lambda done, total: progress.update(task, completed=done))
    summary["dataset"] = name
    summary["false_links"] = summary["false_links"][:errors]
    summary["missed_links"] = summary["missed_links"][:errors]
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.echo(format_summary(summary))
