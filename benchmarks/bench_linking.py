"""Linking reports into series: 100,000 reports on one core (target < 60 s).

Reports are generated like the story's, at scale: many series of different sizes (each
citing one of its board threads in varied spellings, some naming a common acquaintance
with spelling variants), and as many unrelated reports that share only hubs (a board's
root, a big platform, a town). The peer in the same run is the obvious approach — compare
every pair of reports' keys — timed on a sample and its n^2 cost extrapolated.

    .venv/bin/python benchmarks/bench_linking.py [--reports 100000] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import time

from _results import machine, now, pin_to_one_core, write_section
from chorus.cases.linking import Suggestion, keys_for, suggest

SYLLABLES = ("ka", "ro", "mi", "tan", "bel", "su", "dor", "vik", "le", "ha", "zu", "nor", "pa",
             "gri", "os", "wen", "ta", "fi", "lom", "ar")  # fmt: skip
VARIANTS = (("y", "i"), ("ph", "f"), ("k", "c"), ("", "h"))


def person(rng: random.Random) -> str:
    """A made-up name (distinct names are as common as in real reports)."""

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title()

    return f"{word()} {word()}"


def variant(rng: random.Random, name: str) -> str:
    a, b = rng.choice(VARIANTS)
    return name.replace(a, b, 1) if a and a in name else name.lower()


def generate(
    n: int, seed: int = 1
) -> tuple[list[tuple[int, list[tuple[str, str]]]], int, list[int]]:
    """Reports, the number of generated series, and each report's true series (-1: none)."""
    rng = random.Random(seed)
    reports: list[tuple[int, list[tuple[str, str]]]] = []
    truth: list[int] = []
    series = 0
    while len(reports) < n // 2:
        size = rng.choice((2, 3, 5, 10, 40, 100))
        board = f"board{series % 300}.example"
        thread = f"/b/thread/{rng.randint(10**5, 10**8)}"
        acquaintance = person(rng)
        for _ in range(min(size, n // 2 - len(reports))):
            spellings = [f"https://{board}{thread}", f"http://www.{board}{thread}/?utm_source=x",
                         f"https://mirror-{board}{thread}.json"]  # fmt: skip
            artifacts = [("url", rng.choice(spellings)), ("url", f"https://{board}/"),
                         ("own_town", "Exampletown")]  # fmt: skip
            if rng.random() < 0.3:
                artifacts.append(("person_with_access", variant(rng, acquaintance)))
            reports.append((len(reports), artifacts))
            truth.append(series)
        series += 1
    while len(reports) < n:
        i = len(reports)
        reports.append((i, [("url", f"https://site{i}.example/p/{rng.randint(1, 10**9)}"),
                            ("url", "https://www.instagram.com/"),
                            ("person_with_access", person(rng)),
                            ("own_town", "Exampletown")]))  # fmt: skip
        truth.append(-1)
    return reports, series, truth


def false_links(links: list[Suggestion], truth: list[int]) -> tuple[int, int]:
    """Links between reports of different true series (or unrelated ones): (all, weak)."""
    wrong = [s for s in links if truth[s.a] == -1 or truth[s.a] != truth[s.b]]
    return len(wrong), sum(1 for s in wrong if s.weak)


def pairwise(reports: list[tuple[int, list[tuple[str, str]]]]) -> int:
    keys = [{k.key for kind, v in arts for k in keys_for(kind, v)} for _i, arts in reports]
    links = 0
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if keys[i] & keys[j]:
                links += 1
    return links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--peer-sample", type=int, default=3_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    reports, made, truth = generate(args.reports)
    t0 = time.perf_counter()
    links, series = suggest(reports)
    elapsed = time.perf_counter() - t0
    sample = random.Random(2).sample(reports, args.peer_sample)
    t0 = time.perf_counter()
    pairwise(sample)
    peer = (time.perf_counter() - t0) * (args.reports / args.peer_sample) ** 2
    in_series = sum(len(s) for s in series)
    wrong, wrong_weak = false_links(links, truth)
    weak = sum(1 for s in links if s.weak)
    misplaced = sum(1 for s in series for r in s if truth[r] == -1)
    mixed = sum(1 for s in series if len({truth[r] for r in s}) > 1)
    body = f"""## Linking reports into series ({now()})

`benchmarks/bench_linking.py --reports {args.reports:,}` on {machine()}; pinned to core
{core}. Half the reports belong to {made:,} generated series (2 to 100 reports each, mixed
URL spellings and mirrors, some naming a common acquaintance with spelling variants); half
are unrelated and share only hubs (board roots, a platform's root, the town) and a made-up
name of someone with access, which sometimes sounds like another report's.

| measure | result | target |
| --- | --- | --- |
| link {args.reports:,} reports (keys, links, series) | **{elapsed:.1f} s** | < 60 s |
| suggested links / suggested series | {len(links):,} / {len(series):,} | |
| of which weak (person names only: recorded, join no series) | {weak:,} | |
| false links (between reports of different true series) | {wrong:,}, all weak: {wrong_weak == wrong} | |
| unrelated reports placed in a suggested series | **{misplaced:,}** (before weak links: 2,868) | 0 |
| suggested series mixing reports of different true series | {mixed:,} | 0 |
| reports placed in a series | {in_series:,} (generated: {args.reports // 2:,}) | |
| peer: pairwise comparison of keys, {args.peer_sample:,}-report sample extrapolated | {peer:,.0f} s ({peer / elapsed:,.0f}x slower) | |
"""  # noqa: E501
    print(body)
    if not args.no_write:
        write_section("bench_linking", body)


if __name__ == "__main__":
    main()
