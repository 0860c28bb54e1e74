"""Robustness of matching to how images are re-posted (issue 9), on one core.

Applies the seeded transforms of :mod:`chorus.fingerprint.benchmark.transforms` to every
photo, and reports for each matcher the recall per transform family at its operating
threshold, the false matches among all pairs of distinct photos (and of every copy against
every other photo), a tail estimate of the per-pair false-match rate, codes per image and
fingerprinting cost. Writes the "robustness" section of RESULTS.md and robustness.csv.

    python benchmarks/bench_robustness.py --photos ../shared/data/photos [--limit N] [--seed S]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _results import machine, now, pin_to_one_core, write_section
from chorus.fingerprint.benchmark import (
    Matcher,
    PdqDihedralMatcher,
    PdqMatcher,
    RobustMatcher,
    csv_rows,
    markdown,
    run,
)
from chorus.fingerprint.benchmark.transforms import by_name

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
CSV = Path(__file__).with_name("robustness.csv")


def matchers(names: list[str] | None) -> list[Matcher]:
    """The baselines (always, unless --only is given for a quick look) and Chorus robust."""
    every: list[Matcher] = [PdqMatcher(), PdqDihedralMatcher(), RobustMatcher()]
    return [m for m in every if not names or m.name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--only", action="append", help="run only this matcher (by name)")
    parser.add_argument("--transform", action="append", help="run only this transform")
    args = parser.parse_args()
    core = pin_to_one_core()
    photos = sorted(args.photos.glob("*.jpg"))[: args.limit]
    started = time.perf_counter()
    transforms = by_name(args.transform)
    runs = run(photos, transforms, matchers(args.only), seed=args.seed)
    elapsed = time.perf_counter() - started
    table = markdown(runs, transforms)
    body = (
        "## Robustness to re-posting (issue 9)\n\n"
        f"`benchmarks/bench_robustness.py --photos {args.photos.name} --seed {args.seed}"
        f"{f' --limit {args.limit}' if args.limit else ''}`, {now()}, {machine()}, pinned to "
        f"core {core}; {len(photos)} photos x {len(transforms)} transforms, {elapsed:.0f} s.\n"
        "Recall is the share of copies whose minimum distance to their own photo's banked "
        "codes is within the matcher's threshold; a copy that cannot be fingerprinted counts "
        "as a miss. Per-transform counts are in `benchmarks/robustness.csv`.\n\n" + table
    )
    print(body)
    if not args.no_write and not args.only and not args.transform:
        write_section("robustness", body)
        CSV.write_text(csv_rows(runs, transforms))


if __name__ == "__main__":
    main()
