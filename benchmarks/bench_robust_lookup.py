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

    python benchmarks/bench_robust_lookup.py [--images 1000000] [--photos N] [--verify N]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos-dir", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--photos", type=int, default=1000, help="real photos banked")
    parser.add_argument("--images", type=int, default=1_000_000, help="registered images")
    parser.add_argument("--verify", type=int, default=10_000, help="query codes checked")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    rng = np.random.default_rng(9)

    paths = sorted(args.photos_dir.glob("*.jpg"))[: args.photos]
    real: list[np.ndarray] = []
    queries: list[np.ndarray] = []
    started = time.perf_counter()
    for path in paths:
        fp = fingerprint_path(path)
        if fp.robust is None:
            continue
        real.append(as_codes([c for _n, c in fp.robust.bank]))
        _data, upright = load_photo(path)
        for transform in by_name(list(COPIES)):
            copy = transform.apply(upright, np.random.default_rng(seed_for(1, path.stem, "x")))
            codes = robust.codes_from_bytes(copy)
            if codes is not None:
                queries.append(as_codes([c for _n, c in codes.query]))
    prepared = time.perf_counter() - started

    per_image = [len(c) for c in real]
    synthetic = args.images - len(real)
    owners = rng.integers(len(real), size=synthetic)
    counts = np.asarray(per_image)[owners]
    masks = np.repeat(rng.integers(0, 256, size=(synthetic, 32), dtype=np.uint8), counts, axis=0)
    bank_codes = np.concatenate(
        [np.concatenate(real), np.concatenate([real[o] for o in owners]) ^ masks]
    )
    del masks
    total_codes = len(bank_codes)
    ids = np.arange(total_codes, dtype=np.int64)

    before = rss()
    tick = time.perf_counter()
    index = PdqIndex(robust.THRESHOLD)
    index.add(ids, bank_codes)
    index.compact()
    build = time.perf_counter() - tick
    memory = rss() - before

    index.search(queries[0])  # warm
    # CPU time of this process: the machine is shared, and a lookup is pure computation
    tick = time.process_time()
    found_images = 0
    for q in queries:
        hits = index.search(q)
        found_images += any(hits)
    elapsed = time.process_time() - tick
    rate = len(queries) / elapsed

    flat = np.concatenate(queries)
    sample = flat[np.linspace(0, len(flat) - 1, min(args.verify, len(flat))).astype(int)]
    tick = time.perf_counter()
    fast = index.search(sample)
    expected = brute_force(bank_codes, ids, sample, robust.THRESHOLD)
    brute_s = time.perf_counter() - tick
    want = sum(len(e) for e in expected)
    got = sum(
        len(set(map(tuple, g)) & set(map(tuple, e))) for g, e in zip(fast, expected, strict=True)
    )
    lost = want - got

    body = (
        "## Robust-signal lookups at 1M registered images (issue 9)\n\n"
        f"`benchmarks/bench_robust_lookup.py --images {args.images} --photos {args.photos}`, "
        f"{now()}, {machine()}, pinned to core {core}.\n"
        f"Bank: {len(real):,} real photos' robust bank codes plus {synthetic:,} synthetic "
        f"images (a real photo's code set XOR one random mask each), {total_codes:,} codes "
        f"({total_codes / args.images:.1f} per image). Queries: {len(queries):,} copies "
        f"({', '.join(COPIES)}) with {len(flat):,} query codes "
        f"({len(flat) / len(queries):.1f} per image). Preparing the photos took "
        f"{prepared:.0f} s.\n\n"
        "| measure | value | target |\n| --- | --- | --- |\n"
        f"| images looked up per CPU-second, one core | {rate:,.0f} | >= 100 |\n"
        f"| copies that found at least one entry | {found_images:,} of {len(queries):,} | |\n"
        f"| matches lost against brute force ({len(sample):,} query codes) | "
        f"{lost} of {want:,} | <= 1% |\n"
        f"| index build (1 core) | {build:.0f} s | |\n"
        f"| index memory (RSS growth) | {memory / 2**30:.2f} GiB, "
        f"{memory / args.images:,.0f} bytes per image | |\n"
        f"| index arrays | {index.nbytes() / 2**30:.2f} GiB | |\n"
        f"| brute-force check time | {brute_s:.0f} s | |\n"
    )
    print(body)
    if not args.no_write:
        write_section("robust-lookup", body)


if __name__ == "__main__":
    main()
