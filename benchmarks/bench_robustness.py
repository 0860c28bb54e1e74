"""Robustness of matching to how images are re-posted (issue 9), on one core.

Applies the seeded transforms of :mod:`chorus.fingerprint.benchmark.transforms` to every
photo, and reports for each matcher the recall per transform family at its operating
threshold, the false matches among all pairs of distinct photos (and of every copy against
every other photo), a tail estimate of the per-pair false-match rate, codes per image and
fingerprinting cost. Writes the "robustness" section of RESULTS.md and robustness.csv.

    python benchmarks/bench_robustness.py --photos ../shared/data/photos [--limit N] [--seed S]
    python benchmarks/bench_robustness.py --originals-only     # all-pairs false matches only
    python benchmarks/bench_robustness.py --before-after --limit 200   # issue 9's tuning

``--before-after`` adds, beside the shipped rule, the rule before issue 9's tuning (every
query code against every bank code within 44 bits) and other radii, all on the same codes,
and writes its own dated section instead of the full-run table.
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
    originals_only,
    run,
)
from chorus.fingerprint.benchmark.transforms import by_name

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
CSV = Path(__file__).with_name("robustness.csv")


def matchers(names: list[str] | None, before_after: bool = False) -> list[Matcher]:
    """The baselines (always, unless --only is given for a quick look) and Chorus robust;
    with ``before_after``, the rule before issue 9's tuning and other radii beside it."""
    every: list[Matcher] = [PdqMatcher(), PdqDihedralMatcher(), RobustMatcher()]
    if before_after:
        every += [
            RobustMatcher("before: one radius", whole=44, split=False, timed=False),
            RobustMatcher("whole 44, halves 36", whole=44, half=36, timed=False),
            RobustMatcher("whole 40, halves 40", whole=40, half=40, timed=False),
        ]
    return [m for m in every if not names or m.name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--only", action="append", help="run only this matcher (by name)")
    parser.add_argument("--transform", action="append", help="run only this transform")
    parser.add_argument(
        "--originals-only",
        action="store_true",
        help="only the false matches among all ordered pairs of distinct originals",
    )
    parser.add_argument(
        "--before-after",
        action="store_true",
        help="add the rule before issue 9's tuning and other radii (same codes)",
    )
    args = parser.parse_args()
    core = pin_to_one_core()
    photos = sorted(args.photos.glob("*.jpg"))[: args.limit]
    started = time.perf_counter()
    transforms = [] if args.originals_only else by_name(args.transform)
    chosen = matchers(args.only, args.before_after or args.originals_only)
    if args.originals_only:
        runs = originals_only(photos, chosen)
    else:
        runs = run(photos, transforms, chosen, seed=args.seed)
    elapsed = time.perf_counter() - started
    table = markdown(runs, transforms)
    if args.originals_only or args.before_after:
        what = "false matches among originals" if args.originals_only else "before and after"
        flags = " --originals-only" if args.originals_only else " --before-after"
        section = "robust-tuning-pairs" if args.originals_only else "robust-tuning-recall"
        body = (
            f"### Issue 9 tuning, {what} ({now()})\n\n"
            f"`benchmarks/bench_robustness.py{flags} --seed {args.seed}"
            f"{f' --limit {args.limit}' if args.limit else ''}`, {machine()}, pinned to core "
            f"{core}; {len(photos)} photos x {len(transforms)} transforms, {elapsed:.0f} s. "
            "All robust columns are computed from the same codes; only the rule differs.\n\n"
            + table
        )
        print(body)
        if not args.no_write:
            write_section(section, body)
        return
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
