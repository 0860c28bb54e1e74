"""``python3 verify/verify_bundle.py BUNDLE [--public-key KEY.pem]``: check a bundle offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bundle import public_key_from_pem, verify_bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify_bundle.py",
        description="Check a Chorus evidence bundle: signatures, file digests, ledger proofs.",
    )
    parser.add_argument(
        "bundle", type=Path, help="the bundle .zip, or the folder it was unpacked to"
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        help="PEM file of the public key you expect (published by the unit)",
    )
    args = parser.parse_args(argv)
    try:
        pinned = public_key_from_pem(args.public_key.read_text()) if args.public_key else None
    except (OSError, UnicodeDecodeError, ValueError):
        print(f"{args.public_key} is not an Ed25519 public key in PEM form.", file=sys.stderr)
        return 2
    report = verify_bundle(args.bundle, pinned)
    print(f"Bundle: {args.bundle}")
    print(f"Signing key id: {report.key_id or 'unknown'}")
    print(f"Signed ledger size: {report.tree_size} entries; in this bundle: {report.entries}")
    print(f"Captures: {report.captures}; timestamp token: {'yes' if report.timestamped else 'no'}")
    if report.ok:
        print("VERIFIED: every signature, file digest and inclusion proof checks out.")
        if pinned is None:
            print("Compare the key id above with the one the issuing unit publishes.")
        return 0
    print(f"NOT VERIFIED: {len(report.problems)} problem(s):")
    for problem in report.problems:
        print(f"  {problem}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
