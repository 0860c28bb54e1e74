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
that passed is reported for a ``--sample`` of copies checked against every synthetic
image). Both brute forces run the full check only on the pairs the exact prefilter of
:mod:`chorus.fingerprint.benchmark.local_pairs` leaves (a photo with fewer than
``local.MIN_INLIERS`` corners within ``local.RADIUS`` bits of some corner of the copy
cannot pass), so they find exactly what checking every pair would. At 1M images (1,000
photos, 10,000 copies) the brute force took 537 CPU-s in the run of 2026-12-02 06:22 UTC
(the prefilter left 1.6M of the 10M pairs for the full check; 655 s in an earlier run)
and the default sample of 4 copies against every synthetic image 137 CPU-s.
``--cache`` keeps the fingerprinted photos and copies in a pickle for a rerun.
All times are CPU seconds of this process (the machine may be shared).

    python benchmarks/bench_local_lookup.py [--images 1000000] [--photos 1000] [--copies 10]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from _results import machine, now, pin_to_one_core, write_section
from bench_robust_lookup import rss
from chorus.fingerprint import local, robust
from chorus.fingerprint.benchmark.evaluate import load_photo, seed_for
from chorus.fingerprint.benchmark.local_pairs import LocalBank, matches, most_close
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


#: Synthetic images compared per block of :func:`against_all` (about 1M corners).
BLOCK = 16_384


def against_all(
    desc: npt.NDArray[np.uint64],
    points: npt.NDArray[np.float32],
    counts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    first: int,
    queries: list[local.LocalFeatures],
) -> int:
    """How many of the images from ``first`` on (corners ``counts[i]`` each, one after
    another in ``desc`` and ``points``) the copy's feature sets match: the exact prefilter
    of :mod:`chorus.fingerprint.benchmark.local_pairs`, then the full check on what it
    leaves, block by block."""
    starts = np.cumsum(counts) - counts
    hits = 0
    for lo in range(first, len(counts), BLOCK):
        hi = min(lo + BLOCK, len(counts))
        assert counts[lo:hi].min() > 0  # every synthetic image copies a real photo's count
        a, b = int(starts[lo]), int(starts[hi - 1] + counts[hi - 1])
        block = LocalBank((None,) * (hi - lo), desc[a:b], starts[lo:hi] - a, np.arange(hi - lo))
        for i in np.flatnonzero(most_close(block, queries) >= local.MIN_INLIERS).tolist():
            s, c = int(starts[lo + i]), int(counts[lo + i])
            w, h = (int(v) for v in sizes[lo + i])
            found = local.LocalFeatures(w, h, points[s : s + c], desc[s : s + c])
            hits += local.best_match(found, queries) is not None
    return hits


Prepared = tuple[list[local.LocalFeatures], list[tuple[int, list[local.LocalFeatures]]], float]


def prepare(paths: list[Path], names: tuple[str, ...], cache: Path | None) -> Prepared:
    """The real photos' bank features and their copies' query features (owner, sets), and
    the seconds fingerprinting took; kept in ``cache`` (a pickle) when one is given, so a
    rerun on the same photos and copies skips the fingerprinting (and reports its time)."""
    tag = (tuple(p.name for p in paths), names)
    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            stored_tag, prepared = pickle.load(f)
        if stored_tag == tag:
            return prepared  # type: ignore[no-any-return]
    started = time.process_time()
    real: list[local.LocalFeatures] = []
    queries: list[tuple[int, list[local.LocalFeatures]]] = []
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
    out = (real, queries, time.process_time() - started)
    if cache is not None:
        with cache.open("wb") as f:
            pickle.dump((tag, out), f)
    return out


Arrays = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.uint64]
]


def bank_arrays(real: list[local.LocalFeatures], images: int, flip: float, clones: bool) -> Arrays:
    """The bank as flat arrays (corners per image, image sizes, points, descriptors): the
    real photos first (keys 0..), then synthetic images up to ``images`` in all."""
    rng = np.random.default_rng(11)
    synthetic = images - len(real)
    owners = rng.integers(len(real), size=synthetic)
    counts = np.array([len(f) for f in real], dtype=np.int64)
    all_counts = np.concatenate([counts, counts[owners]])
    sizes = np.array([(f.width, f.height) for f in real], dtype=np.int64)
    all_sizes = np.concatenate([sizes, sizes[owners]])
    source_desc = [f.descriptors for f in real]
    source_points = [f.points for f in real]
    n_real = int(counts.sum())
    if clones:
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
        flips |= (rng.random(len(flips)) < flip).astype(np.uint64) << np.uint64(bit)
    desc[n_real:] ^= flips
    del flips
    frame = np.repeat(all_sizes[len(real) :], all_counts[len(real) :], axis=0)
    points[n_real:, 0] = rng.random(len(frame)) * frame[:, 0]
    points[n_real:, 1] = rng.random(len(frame)) * frame[:, 1]
    del frame
    return all_counts, all_sizes, points, desc


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
    parser.add_argument("--sample", type=int, default=4, help="copies checked against all")
    parser.add_argument("--cache", type=Path, help="pickle of the prepared features")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()

    names = COPIES[: args.copies]
    paths = sorted(args.photos_dir.glob("*.jpg"))[: args.photos]
    real, queries, prepared = prepare(paths, names, args.cache)

    synthetic = args.images - len(real)
    all_counts, all_sizes, points, desc = bank_arrays(real, args.images, args.flip, args.clones)
    gc.collect()

    before = rss()
    tick = time.process_time()
    index = LocalIndex()
    index.load(list(range(args.images)), all_counts, all_sizes, points, desc)
    build = time.process_time() - tick
    memory = rss() - before  # the index keeps desc and points themselves (no copy)

    index.search(queries[0][1])  # warm
    tick = time.process_time()
    answers = [index.search(q) for _o, q in queries]
    elapsed = time.process_time() - tick
    rate = len(queries) / elapsed

    # brute force: every copy against every real photo, the full check on every pair the
    # exact prefilter (local_pairs) leaves: it drops only pairs the check would reject
    tick = time.process_time()
    want = got = wrong = checked = 0
    bank = LocalBank.of(real)
    for (owner, q), found in zip(queries, answers, strict=True):
        passed, n, _captures = matches(bank, q)
        expected = set(np.flatnonzero(passed).tolist())
        keys = {k for k, _m in found}
        want += len(expected)
        got += len(expected & keys)
        wrong += len(expected - {owner})
        checked += n
    brute_s = time.process_time() - tick
    # and a sample of copies against every synthetic image too (same prefilter, in blocks)
    tick = time.process_time()
    synthetic_hits = 0
    pick = np.linspace(0, len(queries) - 1, min(args.sample, len(queries))).astype(int)
    for i in pick:
        synthetic_hits += against_all(desc, points, all_counts, all_sizes, len(real), queries[i][1])
    sample_s = time.process_time() - tick
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
        ("index build (CPU)", f"{build:.0f} s", ""),
        (
            "index memory per registered image (all its arrays: corners and tables)",
            f"{index.nbytes / args.images:,.0f} bytes ({index.nbytes / 2**30:.2f} GiB)",
            "stated",
        ),
        (
            "RSS growth of the build (the tables; the corner arrays are made before it)",
            f"{memory / 2**30:.2f} GiB, {memory / args.images:,.0f} bytes per image",
            "",
        ),
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
        f"({', '.join(names)}). CPU seconds: preparation (fingerprinting the photos and "
        f"copies) {prepared:.0f} s ({1000 * prepared / (len(real) + len(queries)):.0f} ms "
        f"an image), brute force {brute_s:.0f} s ({checked:,} full checks after the exact "
        f"prefilter, of {len(queries) * len(real):,} pairs), sample against every "
        f"synthetic image {sample_s:.0f} s.\n\n" + "\n".join(lines)
    )
    print(body)
    if not args.no_write:
        write_section("bench_local_lookup", body)


if __name__ == "__main__":
    main()
