"""Robust-signal lookups against a bank of 1M registered images, on one core.

The bank: the robust bank codes of the shared photos (about 23 per photo), plus synthetic
images up to ``--images`` in all. A synthetic image is a real photo's whole set of bank
codes XORed with one uniformly random 256-bit mask: every code is new and uniformly
distributed, but the codes of one image keep exactly the distances between them that a
real photo's windows have (a ladder rung and its neighbour stay close), so the index sees
the clustering it will meet in a real bank. Queries: the robust query codes (about 6 per
copy) of re-posted copies of the real photos (screenshots, borders, centred crops,
rotations, overlays), each looked up as a whole image. Measured: images looked up per
second, the index's memory per registered image, and whether its answers equal a
brute-force comparison (on ``--verify`` query codes).

As shipped, whole-region codes (``robust``, 40 bits) and half-frame codes
(``robust_half``, 36 bits) are two signal types with an index each, and a query code is
searched only in its own type's index. ``--before`` also builds, on the same bank and
queries, the single index of every code at 44 bits that was used before issue 9's tuning,
so the two are compared in one run.

    python benchmarks/bench_robust_lookup.py [--images 1000000] [--photos N] [--verify N]
        [--before]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import time
from pathlib import Path

import numpy as np

from _results import machine, now, pin_to_one_core, write_section
from chorus.fingerprint import fingerprint_path, robust
from chorus.fingerprint.benchmark.evaluate import load_photo, seed_for
from chorus.fingerprint.benchmark.transforms import by_name
from chorus.matching.pdq_index import PdqIndex, brute_force

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
COPIES = ("screenshot", "border_blurred_fill", "crop80_centre", "rotate_5", "overlay_text")


def rss() -> int:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def as_codes(values: list[str]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


RULES = {
    "after": "as shipped: robust <= 40, robust_half <= 36 (two indexes)",
    "before": "before: every code <= 44 (one index)",
}
MEASURES = (
    ("rate", "images looked up per CPU-second, one core", ">= 100"),
    ("found", "copies that found at least one entry", ""),
    ("lost", "matches lost against brute force", "<= 1%"),
    ("build", "index build (1 core)", ""),
    ("memory", "index memory (RSS growth)", ""),
    ("arrays", "index arrays", ""),
    ("brute", "brute-force check time", ""),
)


def measure(
    bank_codes: np.ndarray,
    ids: np.ndarray,
    queries: list[dict[str, np.ndarray]],
    rule: dict[str, tuple[np.ndarray, int]],
    verify: int,
    registered: int,
) -> dict[str, str]:
    """Build the rule's indexes, time the lookups and check them against brute force.
    A family missing from the rule has its query codes searched in the ``robust`` one."""
    before = rss()
    tick = time.perf_counter()
    indexes = {}
    for kind, (mask, radius) in rule.items():
        index = PdqIndex(radius)
        index.add(ids[mask], bank_codes[mask])
        index.compact()
        indexes[kind] = index
    build = time.perf_counter() - tick
    memory = rss() - before
    grouped = [_grouped(q, rule) for q in queries]
    indexes["robust"].search(grouped[0]["robust"])  # warm
    # CPU time of this process: the machine is shared, and a lookup is pure computation
    tick = time.process_time()
    found_images = 0
    for q in grouped:
        found_images += any(any(indexes[k].search(c)) for k, c in q.items() if len(c))
    elapsed = time.process_time() - tick
    rate = len(grouped) / elapsed
    tick = time.perf_counter()
    want = got = 0
    for kind, (mask, radius) in rule.items():
        flat = np.concatenate([q[kind] for q in grouped if len(q[kind])])
        share = max(1, round(verify * len(flat) / sum(sum(map(len, q.values())) for q in grouped)))
        sample = flat[np.linspace(0, len(flat) - 1, min(share, len(flat))).astype(int)]
        fast = indexes[kind].search(sample)
        expected = brute_force(bank_codes[mask], ids[mask], sample, radius)
        want += sum(len(e) for e in expected)
        got += sum(
            len(set(map(tuple, g)) & set(map(tuple, e)))
            for g, e in zip(fast, expected, strict=True)
        )
    brute_s = time.perf_counter() - tick
    nbytes = sum(index.nbytes() for index in indexes.values())
    del indexes
    gc.collect()
    return {
        "rate": f"{rate:,.0f}",
        "found": f"{found_images:,} of {len(queries):,}",
        "lost": f"{want - got} of {want:,} ({verify:,} query codes)",
        "build": f"{build:.0f} s",
        "memory": f"{memory / 2**30:.2f} GiB, {memory / registered:,.0f} bytes per image",
        "arrays": f"{nbytes / 2**30:.2f} GiB",
        "brute": f"{brute_s:.0f} s",
    }


def _grouped(
    query: dict[str, np.ndarray], rule: dict[str, tuple[np.ndarray, int]]
) -> dict[str, np.ndarray]:
    if set(query) <= set(rule):
        return query
    return {"robust": np.concatenate([c for c in query.values() if len(c)])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos-dir", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--photos", type=int, default=1000, help="real photos banked")
    parser.add_argument("--images", type=int, default=1_000_000, help="registered images")
    parser.add_argument("--verify", type=int, default=10_000, help="query codes checked")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--before", action="store_true", help="also the one-index rule at 44")
    args = parser.parse_args()
    core = pin_to_one_core()
    rng = np.random.default_rng(9)

    paths = sorted(args.photos_dir.glob("*.jpg"))[: args.photos]
    real: list[np.ndarray] = []
    real_half: list[np.ndarray] = []  # per photo, True where a bank code is a half-frame
    queries: list[dict[str, np.ndarray]] = []
    started = time.perf_counter()
    for path in paths:
        fp = fingerprint_path(path)
        if fp.robust is None:
            continue
        real.append(as_codes([c for _n, c in fp.robust.bank]))
        real_half.append(np.asarray([n in robust.HALVES for n, _c in fp.robust.bank]))
        _data, upright = load_photo(path)
        for transform in by_name(list(COPIES)):
            copy = transform.apply(upright, np.random.default_rng(seed_for(1, path.stem, "x")))
            codes = robust.codes_from_bytes(copy)
            if codes is not None:
                queries.append(
                    {
                        kind: as_codes([c for k, c in codes.query_signals() if k == kind])
                        for kind in robust.SIGNALS
                    }
                )
    prepared = time.perf_counter() - started

    per_image = [len(c) for c in real]
    synthetic = args.images - len(real)
    owners = rng.integers(len(real), size=synthetic)
    counts = np.asarray(per_image)[owners]
    masks = np.repeat(rng.integers(0, 256, size=(synthetic, 32), dtype=np.uint8), counts, axis=0)
    bank_codes = np.concatenate(
        [np.concatenate(real), np.concatenate([real[o] for o in owners]) ^ masks]
    )
    is_half = np.concatenate(
        [np.concatenate(real_half), np.concatenate([real_half[o] for o in owners])]
    )
    del masks
    total_codes = len(bank_codes)
    ids = np.arange(total_codes, dtype=np.int64)
    rules: dict[str, dict[str, tuple[np.ndarray, int]]] = {
        "after": {
            "robust": (~is_half, robust.THRESHOLD),
            "robust_half": (is_half, robust.HALF_THRESHOLD),
        }
    }
    if args.before:
        rules["before"] = {"robust": (np.ones(total_codes, dtype=bool), 44)}
    rows = {
        name: measure(bank_codes, ids, queries, rule, args.verify, args.images)
        for name, rule in rules.items()
    }
    flat = sum(sum(len(c) for c in q.values()) for q in queries)

    names = list(rows)
    header = "| measure | " + " | ".join(RULES[n] for n in names) + " | target |"
    lines = [header, "| --- |" + " --- |" * (len(names) + 1)]
    for key, label, target in MEASURES:
        lines.append(f"| {label} | " + " | ".join(rows[n][key] for n in names) + f" | {target} |")
    body = (
        f"### Robust-signal lookups, issue 9 tuning ({now()})\n\n"
        f"`benchmarks/bench_robust_lookup.py --images {args.images} --photos {args.photos} "
        f"--verify {args.verify}{' --before' if args.before else ''}`, {machine()}, "
        f"pinned to core {core}.\n"
        f"Bank: {len(real):,} real photos' robust bank codes plus {synthetic:,} synthetic "
        f"images (a real photo's code set XOR one random mask each), {total_codes:,} codes "
        f"({total_codes / args.images:.1f} per image, {int(is_half.sum()):,} of them "
        f"half-frame). Queries: {len(queries):,} copies ({', '.join(COPIES)}) with "
        f"{flat:,} query codes ({flat / len(queries):.1f} per image). Preparing the photos "
        f"took {prepared:.0f} s. Each column is one rule over the same bank and queries.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    print(body)
    if not args.no_write:
        write_section("robust-lookup-tuning", body)


if __name__ == "__main__":
    main()
