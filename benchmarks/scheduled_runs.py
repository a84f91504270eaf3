"""Scheduled run over generated articles from 20 local feeds: cold, then 5% new or changed, then nothing new.

The generator writes 20 outlets' RSS feeds and article pages covering invented stories (one a day,
each carried by 10 outlets in each outlet's own words) into a temporary folder, served on 127.0.0.1 by
the project's fixture server (ETag, Last-Modified, 304 answers like a real site). `storydiff run` runs
in a subprocess: once cold (empty store and embedding cache), then after the next news cycle (5% of
the articles: 40% of them new articles breaking new stories, 60% edits to the newest stories), then
once more with nothing new. The incremental run should only fetch, embed and compare what changed;
its speed-up over the cold run is the figure.

`make bench` runs `--stories 200`: issue 8's 2,000 articles (the cold run is most of its ~4-5 minutes on
2 cores). Run alone without the option for a quick 600-article check.

Run alone: .venv/bin/python benchmarks/scheduled_runs.py [--stories 200]  (prints JSON)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STORYDIFF = Path(sys.executable).parent / "storydiff"

N_OUTLETS = 20
N_STORIES = 60  # quick default when run alone; `make bench` passes --stories 200 (issue 8's 2,000 articles)
PER_STORY = 10  # outlets per story: 60 x 10 = 600 articles
EDITS_PER_STORY = 5
CHANGED = 20  # edited articles: EDITS_PER_STORY in each of the CHANGED // EDITS_PER_STORY newest stories
NEW = 10  # new articles: NEW // PER_STORY new stories; CHANGED + NEW = 5% of the articles


def configure(stories: int) -> None:
    """Size the fixture: `stories` x PER_STORY articles, 5% of them new (40%) or edited (60%) next cycle."""
    global N_STORIES, CHANGED, NEW
    N_STORIES = stories
    articles = stories * PER_STORY
    NEW = max(1, round(articles * 0.02 / PER_STORY)) * PER_STORY
    CHANGED = max(EDITS_PER_STORY, round((articles * 0.05 - NEW) / EDITS_PER_STORY) * EDITS_PER_STORY)

EVENTS = ["flood", "dock strike", "warehouse fire", "bridge collapse", "power cut", "rail strike",
          "chemical spill", "bus crash", "hospital walkout", "landslide"]
SYLLABLES = ["vel", "mor", "ka", "dun", "bra", "sil", "tor", "en", "ash", "lin", "gar", "ro", "ne", "pa"]
VERBS = [("said", "stated"), ("confirmed", "announced"), ("warned", "cautioned"), ("reported", "told reporters")]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def generate_story(n: int, rng: random.Random) -> dict:
    place, person, agency = _name(rng, 3), f"{_name(rng)} {_name(rng, 3)}", f"{_name(rng)} Authority"
    event = rng.choice(EVENTS)
    facts = [
        f"A {event} hit {place} on {rng.choice(['Monday', 'Tuesday', 'Friday'])}, {{verb}} {agency}.",
        f"At least {rng.randint(3, 400)} people were affected in {place}, officials {{verb}}.",
        f"{person}, who leads the {agency}, {{verb}} that crews were on site within an hour.",
        f"Damage in the {_name(rng)} district is estimated at {rng.randint(2, 90)} million euros.",
        f"Residents of {place} were told to avoid the area until {rng.choice(['Sunday', 'next week'])}.",
        f"The {event} is the worst in {place} since {rng.randint(1950, 2015)}, according to local records.",
        f"Police in {place} {{verb}} that {rng.randint(2, 40)} roads remain closed.",
    ]
    # One story a day: with the job's default 72-hour window an article competes only with the stories
    # of its own week, as in a real archive (template-alike stories of the same event kind otherwise merge).
    return {"id": f"s{n:03d}", "place": place, "event": event, "facts": facts,
            "published": datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=n)}


def article_text(story: dict, outlet: int, rng: random.Random, edited: bool = False) -> tuple[str, str]:
    chosen = rng.sample(story["facts"], k=rng.randint(4, 6))
    sentences = [f.replace("{verb}", rng.choice(rng.choice(VERBS))) for f in chosen]
    sentences.append(f"Outlet {outlet:02d} will follow the {story['event']} in {story['place']} as it develops.")
    if edited:
        sentences.append(f"Update: the {story['event']} response in {story['place']} was expanded overnight.")
    title = f"{story['event'].capitalize()} in {story['place']}: what we know"
    return title, " ".join(sentences)


def write_site(root: Path, seed: int = 11) -> dict:
    """Generate the feeds and pages; returns what the incremental step needs to edit."""
    rng = random.Random(seed)
    stories = [generate_story(n, rng) for n in range(N_STORIES)]
    items: dict[int, list[dict]] = {o: [] for o in range(N_OUTLETS)}
    for story in stories:
        for outlet in rng.sample(range(N_OUTLETS), PER_STORY):
            title, text = article_text(story, outlet, rng)
            items[outlet].append({"story": story, "slug": story["id"], "title": title, "text": text,
                                  "published": story["published"] + timedelta(minutes=rng.randint(0, 300))})
    for outlet in range(N_OUTLETS):
        _write_outlet(root, outlet, items[outlet])
    return {"stories": stories, "items": items, "rng": rng}


def _write_page(root: Path, outlet: int, item: dict) -> None:
    path = root / f"o{outlet:02d}" / f"{item['slug']}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    paragraphs = "".join(f"<p>{escape(s)}.</p>" for s in item["text"].split(". ") if s)
    path.write_text(f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(item['title'])}"
                    f"</title></head><body><article><h1>{escape(item['title'])}</h1>{paragraphs}</article>"
                    "</body></html>", "utf-8")


def _write_outlet(root: Path, outlet: int, items: list[dict]) -> None:
    folder = root / f"o{outlet:02d}"
    for item in items:
        _write_page(root, outlet, item)
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{{{{BASE}}}}/o{outlet:02d}/{i['slug']}.html</link>"
        f"<guid>{{{{BASE}}}}/o{outlet:02d}/{i['slug']}.html</guid>"
        f"<pubDate>{format_datetime(i['published'], usegmt=True)}</pubDate></item>"
        for i in sorted(items, key=lambda i: i["published"], reverse=True))
    (folder / "rss.xml").write_text(
        f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Outlet {outlet:02d}</title>"
        f"<link>{{{{BASE}}}}/o{outlet:02d}/</link><description>generated</description>{entries}</channel></rss>",
        "utf-8")


def change_site(root: Path, site: dict) -> dict:
    """The next news cycle, 5% of the articles: NEW articles that break NEW // PER_STORY new stories, and
    CHANGED edits, EDITS_PER_STORY per story, to the newest stories (where updates happen). Feeds of the
    outlets touched are rewritten with fresh file times. Returns how many stories the changes touch."""
    rng: random.Random = site["rng"]
    items: dict[int, list[dict]] = site["items"]
    stories: list[dict] = site["stories"]
    touched: set[int] = set()
    newest = stories[-(CHANGED // EDITS_PER_STORY):]
    for story in newest:
        carried = [(o, i) for o in items for i in items[o] if i["story"] is story]
        for outlet, item in rng.sample(carried, EDITS_PER_STORY):
            item["title"], item["text"] = article_text(story, outlet, rng, edited=True)
            touched.add(outlet)
    fresh = [generate_story(len(stories) + n, rng) for n in range(NEW // PER_STORY)]
    for story in fresh:
        for outlet in rng.sample(range(N_OUTLETS), PER_STORY):
            title, text = article_text(story, outlet, rng)
            items[outlet].append({"story": story, "slug": story["id"], "title": title, "text": text,
                                  "published": story["published"] + timedelta(minutes=rng.randint(0, 300))})
            touched.add(outlet)
    stories.extend(fresh)
    later = time.time() + 5
    for outlet in touched:
        _write_outlet(root, outlet, items[outlet])
        for path in (root / f"o{outlet:02d}").iterdir():
            os.utime(path, (later, later))
    return {"stories_edited": len(newest), "stories_new": len(fresh)}


def write_job(folder: Path, base_url: str) -> Path:
    sources = "".join(f"\n[[sources]]\noutlet = \"Outlet {o:02d}\"\nfeed = \"{base_url}/o{o:02d}/rss.xml\"\n"
                      f"language = \"en\"\n" for o in range(N_OUTLETS))
    job = folder / "job.toml"
    job.write_text(
        "store = \"store.db\"\noutput = \"reports\"\n\n[options]\nformats = [\"html\", \"json\"]\n"
        "model = \"minilm\"\nhost_delay = 0\nmax_items = 500\nretries = 0\n" + sources, "utf-8")
    return job


def _run(job: Path, env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([str(STORYDIFF), "run", str(job)], env=env, capture_output=True, text=True,
                          check=False, timeout=900)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu_s": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
            "exit": proc.returncode, "summary": (proc.stderr.strip().splitlines() or [""])[-1][:300]}


def run() -> dict:
    try:
        from compare.runs.demo_server import serve_in_thread
        from compare.runs.schedule import run_job  # noqa: F401  (only checks that scheduled runs exist)
    except ImportError as exc:
        return {"skipped": f"scheduled runs not available yet ({exc})"}
    with tempfile.TemporaryDirectory(prefix="storydiff-sched-") as tmp:
        folder = Path(tmp)
        site_root = folder / "site"
        site = write_site(site_root)
        server = serve_in_thread(site_root)
        try:
            job = write_job(folder, server.base_url)
            env = {**os.environ, "STORYDIFF_CACHE": str(folder / "cache" / "embeddings.sqlite"),
                   "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
            cold = _run(job, env)
            if __name__ == "__main__":  # progress line: a run cut short by the bench budget still reports it
                print(json.dumps({"articles": N_STORIES * PER_STORY, "cold": cold}), flush=True)
            touched = change_site(site_root, site)
            incremental = _run(job, env)
            reports = len([p for p in (folder / "reports").glob("*/report.json")])
            # Nothing new: the floor of any re-run (start-up, conditional re-checks of every page, index).
            unchanged = _run(job, env)
        finally:
            server.shutdown()
    return {"articles": N_STORIES * PER_STORY, "feeds": N_OUTLETS, "changed": CHANGED, "new": NEW, **touched,
            "cold": cold, "incremental": incremental, "unchanged": unchanged, "reports": reports,
            "load_end": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
            "speedup": cold["seconds"] / incremental["seconds"] if incremental["seconds"] else None,
            "speedup_cpu": cold["cpu_s"] / incremental["cpu_s"] if incremental["cpu_s"] else None}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=N_STORIES,
                        help=f"stories of {PER_STORY} articles (default {N_STORIES}; 200 = 2,000 articles)")
    configure(parser.parse_args().stories)
    print(json.dumps(run()))
