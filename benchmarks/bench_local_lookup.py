"""Local-signal lookups against a bank of 1M registered images, on one core.

The bank: the local bank features of the shared photos (64 corners each), plus synthetic
images up to ``--images`` in all. A synthetic image has as many corners as a real photo,
each drawn from the pool of all real photos' corners with every descriptor bit flipped
with probability ``--flip`` (0.1: about 6 of 64 bits, well inside the 12-bit radius of
the corner it came from) and put at a random place of the frame: the descriptors keep
real corners' uneven bit statistics and crowd the same hash buckets real corners do, but
an image's corners come from many photos, as a different photo's would, and no geometry
agrees, so none of them is a true match. (Cloning one real photo's corners for each
synthetic image instead gives every copy about 1,000 near-clones of its own photo, which
no real bank holds; with that model the index checks more candidates and is slower, see
RESULTS.md.) Queries: the local query features
of ``--copies`` re-posted copies of every real photo (crops off the centre, rotations,
overlays, screenshots and the rest), each looked up as a whole image.

Measured: images looked up per CPU-second (the index's search: candidates and the
geometric check), the index's memory per registered image, and the matches lost against
**brute force**: the same copies checked against every real photo with the full check
(:func:`chorus.fingerprint.local.best_match`), which is every match brute force can find
(a synthetic image never passes the check: its corners are scattered; the count of those
that passed on a sample is reported too).

    python benchmarks/bench_local_lookup.py [--images 1000000] [--photos 1000] [--copies 10]
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

import numpy as np

from _results import machine, now, pin_to_one_core, write_section
from bench_robust_lookup import rss
from chorus.fingerprint import local, robust
from chorus.fingerprint.benchmark.evaluate import load_photo, seed_for
from chorus.fingerprint.benchmark.transforms import by_name
from chorus.matching.local_index import LocalIndex

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
COPIES = (
    "crop90_offcentre",
    "crop80_offcentre",
    "crop70_offcentre",
    "crop70_centre",
    "rotate_5",
    "rotate_10",
    "overlay_emoji",
    "overlay_text",
    "screenshot",
    "combo_screenshot_of_crop",
    "jpeg_q50",
    "border_blurred_fill",
)


def query_of(data: bytes) -> list[local.LocalFeatures]:
    luma = robust.luma_for_hashing(data)
    found = robust.regions(luma)
    rects = [found[k] for k in ("frame", "main", "trim") if k in found]
    return list(local.codes_for(luma, rects).query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos-dir", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--photos", type=int, default=1000, help="real photos banked")
    parser.add_argument("--images", type=int, default=1_000_000, help="registered images")
    parser.add_argument("--copies", type=int, default=10, help="copies per photo looked up")
    parser.add_argument("--flip", type=float, default=0.1, help="synthetic bit-flip rate")
    parser.add_argument(
        "--clones", action="store_true", help="synthetic images clone one real photo each"
    )
    parser.add_argument("--sample", type=int, default=20, help="copies checked against all")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    rng = np.random.default_rng(11)

    started = time.perf_counter()
    paths = sorted(args.photos_dir.glob("*.jpg"))[: args.photos]
    real: list[local.LocalFeatures] = []
    queries: list[tuple[int, list[local.LocalFeatures]]] = []
    names = COPIES[: args.copies]
    for path in paths:
        data, upright = load_photo(path)
        bank = local.codes_for(robust.luma_for_hashing(data)).bank
        if bank is None:
            continue
        owner = len(real)
        real.append(bank)
        for transform in by_name(list(names)):
            copy = transform.apply(upright, np.random.default_rng(seed_for(3, path.stem, "l")))
            queries.append((owner, query_of(copy)))
    prepared = time.perf_counter() - started

    # the bank as flat arrays: real photos first (keys 0..), then synthetic ones
    synthetic = args.images - len(real)
    owners = rng.integers(len(real), size=synthetic)
    counts = np.array([len(f) for f in real], dtype=np.int64)
    all_counts = np.concatenate([counts, counts[owners]])
    sizes = np.array([(f.width, f.height) for f in real], dtype=np.int64)
    all_sizes = np.concatenate([sizes, sizes[owners]])
    source_desc = [f.descriptors for f in real]
    source_points = [f.points for f in real]
    n_real = int(counts.sum())
    if args.clones:
        desc = np.concatenate(source_desc + [source_desc[o] for o in owners])
        points = np.concatenate(source_points + [source_points[o] for o in owners])
    else:
        pool_desc, pool_points = np.concatenate(source_desc), np.concatenate(source_points)
        drawn = rng.integers(n_real, size=int(all_counts.sum()) - n_real)
        desc = np.concatenate([pool_desc, pool_desc[drawn]])
        points = np.concatenate([pool_points, pool_points[drawn]])
        del pool_desc, pool_points, drawn
    del source_desc, source_points
    flips = np.zeros(len(desc) - n_real, dtype=np.uint64)
    for bit in range(64):
        flips |= (rng.random(len(flips)) < args.flip).astype(np.uint64) << np.uint64(bit)
    desc[n_real:] ^= flips
    del flips
    frame = np.repeat(all_sizes[len(real) :], all_counts[len(real) :], axis=0)
    points[n_real:, 0] = rng.random(len(frame)) * frame[:, 0]
    points[n_real:, 1] = rng.random(len(frame)) * frame[:, 1]
    del frame
    gc.collect()

    before = rss()
    tick = time.perf_counter()
    index = LocalIndex()
    index.load(list(range(args.images)), all_counts, all_sizes, points, desc)
    build = time.perf_counter() - tick
    del points, desc
    memory = rss() - before

    index.search(queries[0][1])  # warm
    tick = time.process_time()
    answers = [index.search(q) for _o, q in queries]
    elapsed = time.process_time() - tick
    rate = len(queries) / elapsed

    # brute force: every copy against every real photo, the full check on each pair
    tick = time.perf_counter()
    want = got = wrong = 0
    for (owner, q), found in zip(queries, answers, strict=True):
        expected = {k for k in range(len(real)) if local.best_match(real[k], q) is not None}
        keys = {k for k, _m in found}
        want += len(expected)
        got += len(expected & keys)
        wrong += len(expected - {owner})
    brute_s = time.perf_counter() - tick
    # and a sample of copies against every synthetic image too
    tick = time.perf_counter()
    synthetic_hits = 0
    pick = np.linspace(0, len(queries) - 1, min(args.sample, len(queries))).astype(int)
    for i in pick:
        synthetic_hits += sum(1 for k, _m in index.brute_force(queries[i][1]) if k >= len(real))
    sample_s = time.perf_counter() - tick
    found_own = sum(1 for (o, _q), f in zip(queries, answers, strict=True) if o in dict(f))

    lost = want - got
    corners = float(all_counts.mean())
    rows = [
        ("images looked up per CPU-second, one core", f"{rate:,.0f}", ">= 100"),
        (
            "matches lost against brute force (every copy x every real photo, full check)",
            f"{lost} of {want:,} ({100 * lost / max(1, want):.2f}%), on {len(queries):,} copies",
            "<= 1%",
        ),
        ("copies whose own photo was found", f"{found_own:,} of {len(queries):,}", ""),
        ("brute-force matches to another real photo", f"{wrong}", "0"),
        (
            f"synthetic images passing the check, {len(pick)} copies x all {synthetic:,}",
            f"{synthetic_hits}",
            "0",
        ),
        ("index build (1 core)", f"{build:.0f} s", ""),
        (
            "index memory (RSS growth)",
            f"{memory / 2**30:.2f} GiB, {memory / args.images:,.0f} bytes per image",
            "",
        ),
        ("index arrays", f"{index.nbytes / 2**30:.2f} GiB", ""),
        ("corners per registered image", f"{corners:.1f}", ""),
    ]
    lines = ["| measure | local index | target |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    body = (
        f"### Local-signal lookups ({now()})\n\n"
        f"`benchmarks/bench_local_lookup.py --images {args.images} --photos {args.photos} "
        f"--copies {args.copies} --flip {args.flip}{' --clones' if args.clones else ''}`, "
        f"{machine()}, pinned to core {core}. "
        f"Bank: {len(real):,} real photos' local features and {synthetic:,} synthetic images "
        f"({int(all_counts.sum()):,} corners); queries: {len(queries):,} copies "
        f"({', '.join(names)}). Preparation {prepared:.0f} s, brute force {brute_s:.0f} s, "
        f"sample against every synthetic image {sample_s:.0f} s.\n\n" + "\n".join(lines)
    )
    print(body)
    if not args.no_write:
        write_section("bench_local_lookup", body)


if __name__ == "__main__":
    main()
