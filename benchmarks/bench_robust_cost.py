"""Robust-signal fingerprinting cost against an earlier version of it, in one run (issue 9).

Loads ``src/chorus/fingerprint/robust.py`` as it was at ``--old-ref`` (from git) beside
the current one and, on the same photos, (1) checks that both give the same codes for the
originals and for seeded re-posted copies (Hamming distance old vs new, per code), and (2)
measures process CPU time per image of the full fingerprint (SHA-256, MD5, PDQ fast path
with variants, robust codes) with each, interleaved image by image so that load from
others on a shared machine falls on both alike. Prints the table (no RESULTS.md section:
the numbers are copied into the dated issue 9 subsection by hand).

    python benchmarks/bench_robust_cost.py [--old-ref 9d8bb92] [--limit 200] [--copies 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from _results import machine, now, pin_to_one_core
from chorus.fingerprint import hasher, robust
from chorus.fingerprint.benchmark.evaluate import load_photo, seed_for
from chorus.fingerprint.benchmark.transforms import TRANSFORMS
from chorus.fingerprint.pdq import hamming_distance

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "photos"


def old_module(ref: str) -> ModuleType:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:src/chorus/fingerprint/robust.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "robust_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("robust_old", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["robust_old"] = module
    spec.loader.exec_module(module)
    return module


def full_fingerprint(data: bytes, codes: ModuleType) -> object:
    hasher.fingerprint_bytes(data, with_robust=False)
    return codes.codes_from_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--old-ref", default="9d8bb92")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--copies", type=int, default=10, help="photos whose copies are compared")
    args = parser.parse_args()
    core = pin_to_one_core()
    old = old_module(args.old_ref)
    paths = sorted(args.photos.glob("*.jpg"))[: args.limit]
    originals = [p.read_bytes() for p in paths]
    items = list(originals)
    for path in paths[: args.copies]:
        _data, upright = load_photo(path)
        for t in TRANSFORMS:
            rng = np.random.default_rng(seed_for(0, path.stem, t.name))
            items.append(t.apply(upright, rng))
    codes = differing = worst = 0
    for data in items:
        luma = robust.luma_for_hashing(data)
        a, b = old.codes_for(luma), robust.codes_for(luma)
        if a is None or b is None:
            differing += (a is None) != (b is None)
            continue
        for (na, ca), (nb, cb) in zip(a.bank + a.query, b.bank + b.query, strict=True):
            codes += 1
            distance = hamming_distance(ca, cb)
            differing += distance > 0 or na != nb
            worst = max(worst, distance)
    spent = {"old": 0.0, "new": 0.0}
    for data in originals:
        for name, module in (("old", old), ("new", robust)):
            started = time.process_time()
            full_fingerprint(data, module)
            spent[name] += time.process_time() - started
    n = len(originals)
    print(
        f"`benchmarks/bench_robust_cost.py --old-ref {args.old_ref} --limit {args.limit} "
        f"--copies {args.copies}`, {now()}, {machine()}, pinned to core {core}.\n\n"
        "| measure | value |\n| --- | --- |\n"
        f"| codes compared (originals and {len(items) - n} seeded copies) | {codes:,} |\n"
        f"| codes that differ, old vs new / largest Hamming distance | {differing} / {worst} |\n"
        f"| full fingerprint, CPU ms per image, old | {1000 * spent['old'] / n:.1f} |\n"
        f"| full fingerprint, CPU ms per image, new | {1000 * spent['new'] / n:.1f} |\n"
        f"| ratio new / old | {spent['new'] / spent['old']:.2f} |\n"
        f"| photos per CPU-second, new | {n / spent['new']:.1f} |\n"
    )


if __name__ == "__main__":
    main()
