"""`chorus bank`, `chorus match` and `chorus keys` as a caseworker would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.matching.keys import MASTER_KEY

CHORUS = [sys.executable, "-m", "chorus.cli"]


def run(
    database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env["CHORUS_DATABASE_URL"] = database_url
    # local features are banked sealed with a data key the evidence master key wraps
    env["CHORUS_EVIDENCE_MASTER_KEY"] = MASTER_KEY
    return subprocess.run(
        [*CHORUS, *args], capture_output=True, text=True, env=env, input=stdin, timeout=300
    )


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_add_match_withdraw(database_url: str, photos: list[Path], tmp_path: Path) -> None:
    added = run(database_url, "bank", "add", "--owner", "case-9", str(photos[0]), str(photos[1]))
    assert added.returncode == 0, added.stderr
    ids = [str(r["id"]) for r in lines(added.stdout)]
    assert len(ids) == 2 and all(i.startswith("be_") for i in ids)

    rotated = tmp_path / "rotated.jpg"
    with Image.open(photos[0]) as im:
        im.rotate(90, expand=True).save(rotated, quality=90)
    matched = run(database_url, "match", str(photos[0]), str(rotated), str(photos[2]))
    assert matched.returncode == 0, matched.stderr
    records = lines(matched.stdout)
    assert [m["id"] for m in records[0]["matches"]] == [ids[0]]  # type: ignore[index]
    assert [m["id"] for m in records[1]["matches"]] == [ids[0]]  # type: ignore[index]
    assert records[2]["matches"] == []

    assert run(database_url, "bank", "withdraw", ids[0]).returncode == 0
    after = lines(run(database_url, "match", str(photos[0])).stdout)
    assert after[0]["matches"] == []
    stats = json.loads(run(database_url, "bank", "stats").stdout)
    assert stats["entries"] == {"active": 1, "withdrawn": 1}
    assert stats["active_signals"]["local"] == 1  # banked by `bank add`, withdrawn with it
    assert run(database_url, "bank", "withdraw", "be_unknown").returncode == 1


def test_import_from_chorus_hash(database_url: str, photos: list[Path], tmp_path: Path) -> None:
    flat = tmp_path / "flat.png"
    Image.new("RGB", (300, 300), "grey").save(flat)
    hashed = subprocess.run(
        [*CHORUS, "hash", str(photos[3]), str(flat)], capture_output=True, text=True
    )
    imported = run(
        database_url,
        "bank",
        "import",
        "--owner",
        "case-1",
        "-",
        stdin=hashed.stdout + "not json\n",
    )
    assert imported.returncode == 1  # the flat photo and the bad line were refused
    rows = lines(imported.stdout)
    assert "id" in rows[0]
    assert "below 50" in str(rows[1]["error"])
    assert rows[2]["line"] == 3
    assert "1 added, 2 refused" in imported.stderr


def test_keys(database_url: str) -> None:
    created = run(database_url, "keys", "create", "Platform A", "--scope", "lookup")
    assert created.returncode == 0
    token = created.stdout.strip()
    assert token.startswith("chorus_") and "only time" in created.stderr
    key_id = token.split("_")[1]
    listed = run(database_url, "keys", "list").stdout
    assert key_id in listed and token.split("_", 2)[2] not in listed
    assert run(database_url, "keys", "revoke", key_id).returncode == 0
    assert "revoked" in run(database_url, "keys", "list").stdout
    assert run(database_url, "keys", "create", "X", "--scope", "root").returncode == 2


def test_match_finds_cropped_and_screenshot_copies(
    database_url: str, photos: list[Path], tmp_path: Path
) -> None:
    import numpy as np

    from chorus.fingerprint import robust
    from chorus.fingerprint.benchmark.evaluate import load_photo
    from chorus.fingerprint.benchmark.transforms import by_name

    added = run(database_url, "bank", "add", "--owner", "case-5", str(photos[4]))
    assert added.returncode == 0, added.stderr
    (entry,) = [str(r["id"]) for r in lines(added.stdout)]
    _data, upright = load_photo(photos[4])
    copies = []
    for name in ("crop80_centre", "screenshot"):
        (step,) = by_name([name])
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(step.apply(upright, np.random.default_rng(0)))
        copies.append(str(path))
    matched = run(database_url, "match", *copies, str(photos[6]))
    assert matched.returncode == 0, matched.stderr
    crop, shot, other = lines(matched.stdout)
    for record in (crop, shot):
        (hit,) = record["matches"]  # type: ignore[misc]
        assert hit["id"] == entry
        assert hit["signal_type"] in {"robust", "local"}  # the strongest of the two
        radius = robust.THRESHOLD if hit["signal_type"] == "robust" else 80
        assert 0 <= hit["distance"] <= hit["radius"] == radius
    assert other["matches"] == []


def test_an_off_centre_crop_is_matched_by_local_features_from_a_file_or_a_record(
    database_url: str, photos: list[Path], tmp_path: Path
) -> None:
    from tests.matching.test_local_matching import corner_crop

    records = tmp_path / "banked.jsonl"
    hashed = subprocess.run([*CHORUS, "hash", str(photos[8])], capture_output=True, text=True)
    assert hashed.returncode == 0, hashed.stderr
    (banked,) = lines(hashed.stdout)
    assert isinstance(banked["local"], dict) and banked["local"]["bank"]
    assert isinstance(banked["robust"], dict) and banked["robust"]["bank"]
    records.write_text(hashed.stdout)
    imported = run(database_url, "bank", "import", "--owner", "case-6", str(records))
    assert imported.returncode == 0, imported.stderr
    (entry,) = [str(r["id"]) for r in lines(imported.stdout)]
    stats = json.loads(run(database_url, "bank", "stats").stdout)
    assert stats["active_signals"]["local"] == 1

    copy = tmp_path / "corner.jpg"
    copy.write_bytes(corner_crop(photos[8]))
    copy_record = tmp_path / "corner.jsonl"
    made = subprocess.run([*CHORUS, "hash", str(copy)], capture_output=True, text=True)
    copy_record.write_text(made.stdout + "\n" + json.dumps({"pdq": 5}) + "\n")
    matched = run(database_url, "match", str(copy), str(copy_record))
    assert matched.returncode == 1, matched.stderr  # the last line is not a real record
    from_file, from_record, broken = lines(matched.stdout)
    assert from_record["line"] == 1 and broken["line"] == 3 and "error" in broken
    for result in (from_file, from_record):
        (hit,) = result["matches"]  # type: ignore[misc]
        assert hit["id"] == entry and hit["signal_type"] == "local"
        assert hit["inliers"] >= 8 and 0 <= hit["distance"] <= hit["radius"] == 80

    assert run(database_url, "bank", "withdraw", entry).returncode == 0
    after = lines(run(database_url, "match", str(copy), str(copy_record)).stdout)
    assert after[0]["matches"] == [] and after[1]["matches"] == []


def test_seal_local_seals_rows_banked_before_sealing(database_url: str, photos: list[Path]) -> None:
    from sqlalchemy import select, update

    from chorus.fingerprint import fingerprint_path
    from chorus.matching.models import BankLocalFeatures
    from chorus.store.engine import make_engine
    from chorus.store.session import session_factory, transaction

    added = run(database_url, "bank", "add", "--owner", "case-5", str(photos[8]))
    assert added.returncode == 0, added.stderr
    banked = fingerprint_path(photos[8]).local
    assert banked is not None and banked.bank is not None
    plain = banked.bank.to_bytes()
    engine = make_engine(database_url)
    try:
        sessions = session_factory(engine)
        with transaction(sessions) as session:
            assert session.scalar(select(BankLocalFeatures.sealed)) is True  # sealed when banked
            session.execute(update(BankLocalFeatures).values(features=plain, sealed=False))
        sealed = run(database_url, "bank", "seal-local")
        assert sealed.returncode == 0, sealed.stderr
        assert sealed.stdout.strip() == "1 local feature rows sealed"
        with transaction(sessions) as session:
            row = session.scalars(select(BankLocalFeatures)).one()
            assert row.sealed and bytes(row.features) != plain
        again = run(database_url, "bank", "seal-local")
        assert again.stdout.strip() == "0 local feature rows sealed"
    finally:
        engine.dispose()
