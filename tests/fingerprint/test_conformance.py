"""The exact path reproduces Meta's reference vectors within each row's tolerance."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from chorus.fingerprint import fingerprint_path, hamming_distance
from tests.conftest import REFERENCE


def _rows() -> list[dict[str, str]]:
    with (REFERENCE / "vectors.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row", _rows(), ids=lambda r: f"{r['image']}~{r['max_distance']}:{r['source'][:12]}"
)
def test_exact_path_matches_reference_vector(row: dict[str, str], reference_dir: Path) -> None:
    result = fingerprint_path(reference_dir / row["image"], exact=True)
    distance = hamming_distance(result.pdq.hash, row["expected_pdq"])
    assert distance <= int(row["max_distance"]), (
        f"{row['image']}: {distance} bits from {row['source']}"
    )
    if row["expected_quality"]:
        assert result.pdq.quality == int(row["expected_quality"])


def test_vectors_cover_every_source(reference_dir: Path) -> None:
    sources = {row["source"].split(" (")[0] for row in _rows()}
    assert len(_rows()) >= 40
    assert {"pdq/java PDQHasherTest", "python-threatexchange test_pdq_hasher"} <= sources
