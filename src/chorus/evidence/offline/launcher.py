"""Copied into each bundle as ``verify/verify_bundle.py``: runs the verifier beside it."""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # leave the bundle exactly as it was
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chorus_offline.__main__ import main  # noqa: E402

sys.exit(main())
