"""Robustness of matching to how images are re-posted (issue 9).

Applies the seeded transforms of :mod:`chorus.fingerprint.benchmark.transforms` to every
photo, and reports for each matcher the recall per transform family at its operating
threshold, the false matches among all pairs of distinct photos (and of every copy against
every other photo), a tail estimate of the per-pair false-match rate, codes per image and
fingerprinting cost. Writes the "robustness" section of RESULTS.md and robustness.csv.
The matchers: PDQ and PDQ + dihedral (the baselines), Chorus's robust codes, the local
features alone, and "Chorus (all signals)", what Chorus ships (PDQ + dihedral, robust codes
or the local check).

    python benchmarks/bench_robustness.py --photos ../shared/data/photos [--limit N] [--seed S]
    python benchmarks/bench_robustness.py --jobs 2          # photos over 2 worker processes
    python benchmarks/bench_robustness.py --originals-only     # all-pairs false matches only
    python benchmarks/bench_robustness.py --before-after --limit 200   # issue 9's tuning

The process is pinned to ``--jobs`` cores (one by default); fingerprinting is timed in
process CPU time per image, so it means the same for any number of jobs.

``--before-after`` adds, beside the shipped rule, the rule before issue 9's tuning (every
query code against every bank code within 44 bits) and other radii, all on the same codes,
and writes its own dated section instead of the full-run table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _results import machine, now, write_section
from chorus.fingerprint.benchmark import (
    ChorusMatcher,
    LocalMatcher,
    Matcher,
    PdqDihedralMatcher,
    PdqMatcher,
    RobustMatcher,
    csv_rows,
    false_match_notes,
    markdown,
    originals_only,
    run,
    tail_notes,
)
from chorus.fingerprint.benchmark.transforms import by_name

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
CSV = Path(__file__).with_name("robustness.csv")


def matchers(names: list[str] | None, before_after: bool = False) -> list[Matcher]:
    """The baselines (always, unless --only is given for a quick look), Chorus robust, the
    local features alone and Chorus (all signals); with ``before_after``, the rule before
    issue 9's tuning and other radii beside them."""
    every: list[Matcher] = [
        PdqMatcher(),
        PdqDihedralMatcher(),
        RobustMatcher(),
        LocalMatcher(),
        ChorusMatcher(),
    ]
    if before_after:
        every += [
            RobustMatcher("before: one radius", whole=44, split=False, timed=False),
            RobustMatcher("whole 44, halves 36", whole=44, half=36, timed=False),
            RobustMatcher("whole 40, halves 40", whole=40, half=40, timed=False),
        ]
    return [m for m in every if not names or m.name in names]


def pin_to_cores(count: int) -> list[int] | None:
    """Run this process (and the workers it starts) on ``count`` of its usable cores."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))[: max(1, count)]
    os.sched_setaffinity(0, set(cores))
    return cores


def _progress(stage: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{stage}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes for fingerprinting and comparing photos (same results)",
    )
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
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    pinned = pin_to_cores(args.jobs)
    cores = "not pinned" if pinned is None else f"pinned to cores {pinned}"
    photos = sorted(args.photos.glob("*.jpg"))[: args.limit]
    started = time.perf_counter()
    transforms = [] if args.originals_only else by_name(args.transform)
    chosen = matchers(args.only, args.before_after or args.originals_only)

    def progress(stage: str, done: int) -> None:
        _progress(stage, done, len(photos))

    if args.originals_only:
        runs = originals_only(photos, chosen, jobs=args.jobs)
    else:
        runs = run(photos, transforms, chosen, seed=args.seed, jobs=args.jobs, progress=progress)
    elapsed = time.perf_counter() - started
    table = markdown(runs, transforms)
    notes = "\n\nTail estimates:\n\n" + "\n".join(f"* {n}" for n in tail_notes(runs))
    wrong = false_match_notes(runs)
    notes += "\n\nFalse matches:\n\n" + ("\n".join(f"* {n}" for n in wrong) or "none")
    if args.originals_only or args.before_after:
        what = "false matches among originals" if args.originals_only else "before and after"
        flags = " --originals-only" if args.originals_only else " --before-after"
        section = "robust-tuning-pairs" if args.originals_only else "robust-tuning-recall"
        body = (
            f"### Issue 9 tuning, {what} ({now()})\n\n"
            f"`benchmarks/bench_robustness.py{flags} --seed {args.seed}"
            f"{f' --limit {args.limit}' if args.limit else ''} --jobs {args.jobs}`, "
            f"{machine()}, {cores}; {len(photos)} photos x {len(transforms)} transforms, "
            f"{elapsed:.0f} s. "
            "All robust columns are computed from the same codes; only the rule differs.\n\n"
            + table
            + notes
        )
        print(body)
        if not args.no_write:
            write_section(section, body)
        return
    body = (
        "## Robustness to re-posting (issue 9)\n\n"
        f"`benchmarks/bench_robustness.py --photos {args.photos.name} --seed {args.seed}"
        f"{f' --limit {args.limit}' if args.limit else ''} --jobs {args.jobs}`, {now()}, "
        f"{machine()}, {cores}; {len(photos)} photos x {len(transforms)} transforms, "
        f"{elapsed:.0f} s.\n"
        "Recall is the share of copies whose minimum distance to their own photo's banked "
        "codes is within the matcher's threshold, or that the local check accepts against "
        "their own photo; a copy that cannot be fingerprinted counts as a miss. Each image is "
        "fingerprinted once; a matcher's time is the CPU time of the stages it needs. "
        "Per-transform counts are in `benchmarks/robustness.csv`.\n\n" + table + notes
    )
    print(body)
    if not args.no_write and not args.only and not args.transform:
        write_section("robustness", body)
        CSV.write_text(csv_rows(runs, transforms))


if __name__ == "__main__":
    main()
