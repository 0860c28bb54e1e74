"""Shared fixtures: the reference data and photos that live beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("CHORUS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
REFERENCE = SHARED / "data" / "pdq-reference"
PHOTOS = SHARED / "data" / "photos"


def _require(path: Path) -> Path:
    if not path.exists():
        raise RuntimeError(
            f"Test data missing: {path}. The suite expects ../shared/data next to the "
            "repository (or CHORUS_SHARED_DIR pointing at shared/)."
        )
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _require(REFERENCE)


@pytest.fixture(scope="session")
def photos() -> list[Path]:
    return sorted(_require(PHOTOS).glob("*.jpg"))
