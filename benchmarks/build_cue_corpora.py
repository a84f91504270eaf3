"""Build the real-text cue corpora that `storydiff eval` scores cue detection on (docs/accuracy.md).

The corpora are not in the repository (their licences do not allow it, and the text is not ours): this script
reads them from fetched snapshots and writes one JSON Lines file per corpus under `.data/cues/` (gitignored).

    python benchmarks/build_cue_corpora.py                      # BABE from its default snapshot
    python benchmarks/build_cue_corpora.py --babe-repo PATH     # a git directory of the BABE repository
    python benchmarks/build_cue_corpora.py --sfu DIR --bioscope FILE.xml ...   # local copies, if you have them

Sources (pinned; the build checks the commit and says so when it differs):
- BABE (Spinde et al. 2021, "Bias Annotations By Experts"): github.com/Media-Bias-Group/
  Neural-Media-Bias-Detection-Using-Distant-Supervision-With-BABE, file data/final_labels_SG2.csv (3,674 news
  sentences, expert labels, biased words marked), commit fb79f646dcabf1746f5ebedc06ed8dd61ba78188, AGPL-3.0.
- SFU Review corpus with negation and speculation (Konstantinova et al. 2012, GPL-3.0) and BioScope (Vincze et
  al. 2008, CC BY 2.0): read from a local directory / XML file when given; no copy of them is reachable here
  that does not also carry corpora reserved for independent checks, so they are optional (docs/accuracy.md
  lists the repositories searched and why each was not used).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compare.evaluation.cue_eval import babe_records, bioscope_records, sfu_records  # noqa: E402

BABE_REPO = Path("/work/.mirror/Media-Bias-Group+Neural-Media-Bias-Detection-Using-Distant-Supervision-With-BABE/repo")
BABE_COMMIT = "fb79f646dcabf1746f5ebedc06ed8dd61ba78188"
BABE_FILE = "data/final_labels_SG2.csv"
OUT = ROOT / ".data" / "cues"


def _git_show(repo: Path, rev: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), "show", f"{rev}:{path}"], check=True,
                          capture_output=True).stdout.decode("utf-8-sig")


def _write(records: list[dict], name: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{path}: {len(records)} sentences")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--babe-repo", type=Path, default=BABE_REPO, help="git directory of the BABE repository")
    ap.add_argument("--sfu", type=Path, help="SFU_Review_Corpus_Negation_Speculation directory (optional)")
    ap.add_argument("--bioscope", type=Path, nargs="*", default=[], help="BioScope XML files (optional)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.babe_repo.exists():
        head = subprocess.run(["git", "--git-dir", str(args.babe_repo), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        if head != BABE_COMMIT:
            print(f"note: BABE snapshot is at {head}, the documented numbers are for {BABE_COMMIT}")
        _write(babe_records(_git_show(args.babe_repo, "HEAD", BABE_FILE), corpus="babe-sg2"), "babe", args.out)
    else:
        print(f"BABE snapshot not found at {args.babe_repo}: skipped", file=sys.stderr)
    if args.sfu:
        _write(sfu_records(args.sfu), "sfu", args.out)
    for xml in args.bioscope:
        _write(bioscope_records(xml.read_text(encoding="utf-8"), corpus=f"bioscope-{xml.stem}"),
               f"bioscope-{xml.stem}", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
