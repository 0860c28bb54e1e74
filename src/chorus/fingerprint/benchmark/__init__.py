"""Robustness benchmark: how matchers fare against the ways images are really re-posted.

Modelled on thorn-oss/perception's benchmarking module: a named, seeded set of transforms
(:mod:`~chorus.fingerprint.benchmark.transforms`) is applied to every photo; each matcher
(:mod:`~chorus.fingerprint.benchmark.matchers`) fingerprints the originals as the bank
would and the copies as a lookup would; :mod:`~chorus.fingerprint.benchmark.evaluate`
reports the recall per transform family at the matcher's operating threshold, and the false
matches among all pairs of distinct photos. Each image is fingerprinted once for all
matchers (:mod:`~chorus.fingerprint.benchmark.signals`); the local signal, matched by a
geometric check rather than a radius, is counted by
:mod:`~chorus.fingerprint.benchmark.local_pairs`. ``benchmarks/bench_robustness.py`` runs it and
writes the table to ``benchmarks/RESULTS.md``.

Like the rest of :mod:`chorus.fingerprint` it imports nothing else of Chorus: the
benchmark can run wherever fingerprints are made.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np

from chorus.fingerprint.benchmark.evaluate import MatcherRun, originals_only, run, tail_estimate
from chorus.fingerprint.benchmark.local_pairs import local_tail_estimate
from chorus.fingerprint.benchmark.matchers import (
    ChorusMatcher,
    LocalMatcher,
    Matcher,
    PdqDihedralMatcher,
    PdqMatcher,
    RobustMatcher,
)
from chorus.fingerprint.benchmark.transforms import HARD_FAMILIES, TRANSFORMS, Transform

__all__ = [
    "HARD_FAMILIES",
    "TRANSFORMS",
    "ChorusMatcher",
    "LocalMatcher",
    "Matcher",
    "MatcherRun",
    "PdqDihedralMatcher",
    "PdqMatcher",
    "RobustMatcher",
    "Transform",
    "csv_rows",
    "false_match_notes",
    "markdown",
    "originals_only",
    "run",
    "tail_notes",
    "target_for",
]


def target_for(family: str) -> float:
    """Issue 9's recall target for a family."""
    return 0.80 if family in HARD_FAMILIES else 0.95


def _families(transforms: Sequence[Transform]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in transforms:
        out.setdefault(t.family, []).append(t.name)
    return out


def _cell(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}%" if total else "n/a"


def _family_recall(r: MatcherRun, names: list[str]) -> tuple[int, int]:
    hits = total = 0
    for name in names:
        h, n = r.recall(name)
        hits, total = hits + h, total + n
    return hits, total


def markdown(runs: Sequence[MatcherRun], transforms: Sequence[Transform]) -> str:
    """The results tables: recall per family and per transform, false matches, cost."""
    families = _families(transforms)
    head = "| family | target | " + " | ".join(f"{r.name} ({r.label})" for r in runs)
    rule = "| --- | --- |" + " --- |" * len(runs)
    lines = [head + " |", rule]
    for family, names in families.items():
        cells = [_cell(*_family_recall(r, names)) for r in runs]
        lines.append(f"| {family} | {target_for(family):.0%} | " + " | ".join(cells) + " |")
    lines.append(
        "| **false matches, all ordered pairs of distinct originals** | 0 | "
        + " | ".join(f"{r.false_original_pairs} of {r.original_pairs:,}" for r in runs)
        + " |"
    )
    lines.append(
        "| false matches, every copy against every other photo | 0 | "
        + " | ".join(f"{r.false_copy_pairs} of {r.copy_pairs:,}" for r in runs)
        + " |"
    )
    lines += _pair_rows(runs)
    lines.append(
        "| codes per banked photo / per copy looked up | | "
        + " | ".join(
            f"{r.bank_codes / max(1, r.banked):.1f} / "
            f"{r.query_codes / max(1, len(r.distances)):.1f}"
            if r.thresholds
            else "none"
            for r in runs
        )
        + " |"
    )
    if any(r.local for r in runs):
        lines.append(
            "| local corners per banked photo / per copy looked up | | "
            + " | ".join(
                f"{r.bank_corners / max(1, r.banked):.0f} / "
                f"{r.query_corners / max(1, len(r.distances)):.0f}"
                if r.local
                else ""
                for r in runs
            )
            + " |"
        )
        lines.append(
            "| pairs the local check ran on (passed the exact prefilter) | | "
            + " | ".join(f"{r.local_checked:,}" if r.local else "" for r in runs)
            + " |"
        )
    lines.append(
        "| fingerprinting, ms per image (process CPU) | | "
        + " | ".join(
            f"{1000 * r.fingerprint_s / max(1, r.fingerprinted):.1f}" if r.timed else "same codes"
            for r in runs
        )
        + " |"
    )
    if not transforms:
        return "\n".join(lines)
    lines += [
        "",
        "Per transform:",
        "",
        "| transform | family | " + head[len("| family | target | ") :] + " |",
        "| --- | --- |" + " --- |" * len(runs),
    ]
    for t in transforms:
        cells = [_cell(*r.recall(t.name)) for r in runs]
        lines.append(f"| {t.name} | {t.family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pair_rows(runs: Sequence[MatcherRun]) -> list[str]:
    """Tail-fit rate (summed over families) and the lowest distinct-pair distance per
    family (for matchers with several families, one value per family, named); for the
    local check, its rate and the most agreeing corners between distinct originals."""
    rates, lowest = [], []
    for r in runs:
        per_rate, per_low = [], []
        several = len(r.thresholds) + r.local > 1
        for kind, t in r.thresholds.items():
            minima = r.pair_minima.get(kind, np.zeros(0, np.int64))
            value = r.lowest(kind)
            named = f"{kind} " if several else ""
            per_rate.append(f"{named}{tail_estimate(minima, t)[0]:.1e}")
            per_low.append(f"{named}{'n/a' if value is None else value}")
        if r.local:
            named = "local " if several else ""
            most = r.most_agreeing()
            per_rate.append(f"{named}{r.local_tail()[0]:.1e}")
            per_low.append(f"{named}{'n/a' if most is None else most} corners (most)")
        detail = f" ({', '.join(per_rate)})" if several else ""
        rates.append(f"{r.tail():.1e}{detail}")
        lowest.append(", ".join(per_low))
    return [
        "| per-pair false-match rate, tail fit | < 1e-7 | " + " | ".join(rates) + " |",
        "| closest distinct originals (lowest distance; local: most agreeing corners) | | "
        + " | ".join(lowest)
        + " |",
    ]


def false_match_notes(runs: Sequence[MatcherRun], limit: int = 20) -> list[str]:
    """Every false match, named (at most ``limit`` per matcher): how it was made, the photo
    looked up and the photo it was wrongly matched to, so that each can be looked at."""
    notes = []
    for r in runs:
        for kind, looked_up, matched in r.false_pairs[:limit]:
            notes.append(f"{r.name}: {kind} of {looked_up} matched {matched}")
        if len(r.false_pairs) > limit:
            notes.append(f"{r.name}: and {len(r.false_pairs) - limit} more")
    return notes


def tail_notes(runs: Sequence[MatcherRun]) -> list[str]:
    """How each tail estimate was made (the fit's own description), one line each."""
    notes = []
    for r in runs:
        for kind, t in r.thresholds.items():
            _rate, how = tail_estimate(r.pair_minima.get(kind, np.zeros(0, np.int64)), t)
            notes.append(f"{r.name}, {kind}: {how}")
        if r.local:
            notes.append(f"{r.name}, local: {r.local_tail()[1]}")
            agreeing = local_tail_estimate(r.pair_agreeing)
            notes.append(
                f"{r.name}, local, agreeing corners alone (originals; the geometric rules "
                f"and the capture rule not applied): {agreeing[0]:.1e}, {agreeing[1]}"
            )
    return notes


def csv_rows(runs: Sequence[MatcherRun], transforms: Sequence[Transform]) -> str:
    """One CSV row per (transform, matcher): hits, total, recall at the threshold."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["transform", "family", "matcher", "threshold", "hits", "total", "recall"])
    for t in transforms:
        for r in runs:
            hits, total = r.recall(t.name)
            writer.writerow(
                [
                    t.name,
                    t.family,
                    r.name,
                    r.label,
                    hits,
                    total,
                    f"{hits / total:.4f}" if total else "",
                ]
            )
    for r in runs:
        writer.writerow(
            [
                "false_matches_originals",
                "",
                r.name,
                r.label,
                r.false_original_pairs,
                r.original_pairs,
                "",
            ]
        )
        writer.writerow(
            ["false_matches_copies", "", r.name, r.label, r.false_copy_pairs, r.copy_pairs, ""]
        )
    return buffer.getvalue()
