"""Export a series, verify it offline with only the bundle, and catch every kind of tampering."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import AccessDeniedError, ExportScopeError
from chorus.evidence import captures, export, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.offline.bundle import public_key_from_pem, public_key_to_pem, verify_bundle
from chorus.evidence.tags import EventTag
from chorus.evidence.warc import Exchange, build_warc
from chorus.store.session import transaction

from .conftest import CASEWORKER, INVESTIGATOR, MONITOR, SURVIVOR
from .fixtures import board_handler, serve, timestamp_authority

Files = dict[str, bytes]


def record_series(
    sessions: sessionmaker[Session], keyring: KeyRing, photos: list[Path]
) -> dict[str, str]:
    """Three survivors' cases; C1 and C2 are linked into series S1, C3 is unrelated."""
    with serve(board_handler(photos[0].read_bytes())) as base, httpx.Client() as client:
        warc = build_warc(
            [
                Exchange.from_httpx(client.get(f"{base}/b/thread/1001")),
                Exchange.from_httpx(client.get(f"{base}/src/1001.jpg")),
            ]
        )
    ids = {}
    with transaction(sessions) as session:
        for case in ("C1", "C2", "C3"):
            ledger.append(session, EventTag.REPORT_RECEIVED, f"survivor:{case}", {"case": case},
                          {"route": "web form"}, scope=f"case:{case}", keyring=keyring)  # fmt: skip
        for case in ("C1", "C2"):
            ledger.append(session, EventTag.LINK_CONFIRMED, "caseworker:cw-3",
                          {"case": case, "series": "S1"}, {"reason": "same board thread"},
                          scope=f"case:{case}", keyring=keyring)  # fmt: skip
            ledger.append(session, EventTag.SERIES_MEMBER_ADDED, "caseworker:cw-3",
                          {"case": case, "series": "S1"})  # fmt: skip
        ids["warc"] = captures.store(
            session, keyring, MONITOR, case_ref="C1", kind="warc", data=warc,
            filename="thread-1001.warc.gz", source_url=f"{base}/b/thread/1001",
            subjects={"sighting": "SG-1"},
        ).public_id  # fmt: skip
        ids["screenshot"] = captures.store(
            session, keyring, SURVIVOR, case_ref="C2", kind="screenshot",
            data=photos[1].read_bytes(), filename="what-i-saw.jpg",
        ).public_id  # fmt: skip
        ids["other"] = captures.store(
            session, keyring, SURVIVOR, case_ref="C3", kind="screenshot",
            data=photos[2].read_bytes(), filename="unrelated.jpg",
        ).public_id  # fmt: skip
        captures.read(session, keyring, INVESTIGATOR, ids["warc"], reason="Initial review")
    return ids


def read_zip(path: Path) -> Files:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def bundle(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    photos: list[Path],
    tmp_path: Path,
) -> tuple[Path, dict[str, str]]:
    ids = record_series(sessions, keyring, photos)
    out = tmp_path / "out" / "S1.zip"
    with transaction(sessions) as session:
        result = export.export_bundle(
            session, settings, INVESTIGATOR, out, reason="File for the prosecutor", series_id="S1"
        )
    assert result.captures == 2 and result.path == out
    return out, ids


def test_a_series_bundle_holds_what_a_court_needs_and_nothing_else(
    bundle: tuple[Path, dict[str, str]], photos: list[Path]
) -> None:
    path, ids = bundle
    report = verify_bundle(path)
    assert report.ok, report.problems
    files = read_zip(path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["scope"] == {"cases": ["C1", "C2"], "series": "S1"}
    entries = [json.loads(line) for line in files["ledger/entries.jsonl"].splitlines()]
    about = {c for e in entries for c in e["subjects"].get("case", [])}
    assert about == {"C1", "C2"}  # nothing of the unrelated case C3
    assert ids["other"] not in str(files.keys())
    # originals untouched; working copies marked
    assert files[f"captures/originals/{ids['screenshot']}.jpeg"] == photos[1].read_bytes()
    working = [n for n in files if n.startswith(f"captures/working/{ids['warc']}/")]
    assert len(working) == 2 and all("WORKING-COPY" in n for n in working)
    records = json.loads(files["captures/records.json"])
    page = next(r for r in records if r["capture"] == ids["warc"])["responses"][0]
    assert page["url"].endswith("/b/thread/1001") and page["http_status"] == 200
    assert ["X-Board", "test-board"] in page["http_headers"]
    assert page["fetched_at_utc"].endswith("Z")
    custody = list(csv.DictReader(io.StringIO(files["custody/custody_log.csv"].decode())))
    viewed = [row for row in custody if row["action"] == EventTag.CAPTURE_VIEWED]
    assert viewed and viewed[0]["who"] == "investigator:officer-7"
    assert viewed[0]["why"] == "Initial review"
    exhibits = list(csv.reader(io.StringIO(files["exhibits.csv"].decode())))
    assert [row[0] for row in exhibits[1:3]] == ["CHR/001", "CHR/001/1"]
    readme = files["README.txt"].decode()
    assert "Open captures/ only when you need to" in readme
    assert "CHR/001" in files["continuity_statement.txt"].decode()
    assert oct(zipfile.ZipFile(path).getinfo("manifest.json").external_attr >> 16) == "0o600"


def test_the_bundle_verifies_on_a_machine_with_only_python(
    bundle: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, _ids = bundle
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(folder)
    # -I -S: no site-packages (no Chorus, no cryptography), no environment, no user site.
    bare = [sys.executable, "-I", "-S"]
    probe = subprocess.run([*bare, "-c", "import cryptography"], capture_output=True, cwd=folder)
    assert probe.returncode != 0
    for target in (".", str(path)):
        run = subprocess.run(
            [*bare, "verify/verify_bundle.py", target],
            capture_output=True, text=True, cwd=folder, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        assert "VERIFIED" in run.stdout
    assert not list(folder.rglob("__pycache__"))
    # and by hand with OpenSSL, as the README says
    for data, signature in (
        ("manifest.json", "manifest.sig"),
        ("ledger/tree_head.json", "ledger/tree_head.sig"),
    ):
        subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "ledger/public_key.pem",
             "-rawin", "-in", data, "-sigfile", signature],
            cwd=folder, check=True, capture_output=True,
        )  # fmt: skip


def flip(name: str) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01
        files[name] = bytes(data)

    return change


def test_a_flipped_byte_in_any_file_is_detected_and_named(
    bundle: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, _ids = bundle
    files = read_zip(path)
    assert {"manifest.json", "ledger/entries.jsonl", "ledger/proofs.json"} <= files.keys()
    for name in files:
        tampered = dict(files)
        flip(name)(tampered)
        report = verify_bundle(write_zip(tmp_path / "t.zip", tampered))
        assert not report.ok, name
        assert any(name in p.path.split(" + ") for p in report.problems), (name, report.problems)


def _lines(files: Files, name: str) -> list[bytes]:
    return files[name].splitlines(keepends=True)


def delete_entry(files: Files) -> None:
    lines = _lines(files, "ledger/entries.jsonl")
    files["ledger/entries.jsonl"] = b"".join(lines[:2] + lines[3:])


def reorder_entries(files: Files) -> None:
    lines = _lines(files, "ledger/entries.jsonl")
    lines[1], lines[2] = lines[2], lines[1]
    files["ledger/entries.jsonl"] = b"".join(lines)


def swap_proofs(files: Files) -> None:
    proofs = json.loads(files["ledger/proofs.json"])
    a, b = list(proofs["proofs"])[:2]
    proofs["proofs"][a], proofs["proofs"][b] = proofs["proofs"][b], proofs["proofs"][a]
    files["ledger/proofs.json"] = json.dumps(proofs).encode()


def forge_tree_head(files: Files) -> None:
    head = json.loads(files["ledger/tree_head.json"])
    head["root_hash"] = "00" * 32
    files["ledger/tree_head.json"] = json.dumps(head).encode()


def edit_a_payload(files: Files) -> None:
    lines = _lines(files, "ledger/payloads.jsonl")
    lines[0] = lines[0].replace(b"web form", b"phone call")
    files["ledger/payloads.jsonl"] = b"".join(lines)


def drop_a_capture(files: Files) -> None:
    del files[next(n for n in files if n.startswith("captures/originals/"))]


def add_a_file(files: Files) -> None:
    files["captures/originals/extra.jpg"] = b"\xff\xd8\xff planted"


TAMPERING: dict[str, tuple[Callable[[Files], None], set[str]]] = {
    "entry deleted": (delete_entry, {"file_altered", "entry_missing"}),
    "entries reordered": (reorder_entries, {"file_altered", "entries_out_of_order"}),
    "proofs swapped": (swap_proofs, {"file_altered", "proof_invalid"}),
    "tree head forged": (forge_tree_head, {"tree_head_signature", "proof_invalid"}),
    "payload edited": (edit_a_payload, {"file_altered", "payload_altered"}),
    "capture removed": (drop_a_capture, {"file_missing"}),
    "file planted": (add_a_file, {"file_unlisted"}),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_structural_tampering_is_detected_and_named(
    bundle: tuple[Path, dict[str, str]], tmp_path: Path, kind: str
) -> None:
    path, _ids = bundle
    files = read_zip(path)
    change, expected = TAMPERING[kind]
    change(files)
    report = verify_bundle(write_zip(tmp_path / "t.zip", files))
    assert expected <= {p.code for p in report.problems}, report.problems


def test_a_bundle_re_signed_with_another_key_fails_against_the_published_key(
    bundle: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """A forger who rewrites everything and signs with their own key: internally consistent,
    so only the unit's published key catches it; the verifier prints the key id to compare."""
    path, _ids = bundle
    files = read_zip(path)
    published = public_key_from_pem(files["ledger/public_key.pem"].decode())
    forger = Ed25519PrivateKey.generate()
    head = json.loads(files["ledger/tree_head.json"])
    from chorus.evidence.offline.ed25519 import key_id

    head["key_id"] = key_id(forger.public_key().public_bytes_raw())
    files["ledger/tree_head.json"] = json.dumps(head).encode()
    files["ledger/tree_head.sig"] = forger.sign(files["ledger/tree_head.json"])
    files["ledger/public_key.pem"] = public_key_to_pem(
        forger.public_key().public_bytes_raw()
    ).encode()
    manifest = json.loads(files["manifest.json"])
    for item in manifest["files"]:
        import hashlib

        item["sha256"] = hashlib.sha256(files[item["path"]]).hexdigest()
        item["size"] = len(files[item["path"]])
    files["manifest.json"] = json.dumps(manifest).encode()
    files["manifest.sig"] = forger.sign(files["manifest.json"])
    forged = write_zip(tmp_path / "forged.zip", files)
    assert verify_bundle(forged, pinned_key=published).problems[0].code == "untrusted_key"
    assert verify_bundle(path, pinned_key=published).ok


def test_only_investigators_export_and_each_export_is_recorded(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, photos: list[Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    record_series(sessions, keyring, photos)
    with transaction(sessions) as session:
        with pytest.raises(AccessDeniedError):
            export.export_bundle(session, settings, CASEWORKER, tmp_path / "x.zip",
                                 reason="r", case_refs=["C1"])  # fmt: skip
        with pytest.raises(ExportScopeError):
            export.export_bundle(session, settings, INVESTIGATOR, tmp_path / "x.zip", reason="r")
        with pytest.raises(ExportScopeError):
            export.export_bundle(session, settings, INVESTIGATOR, tmp_path / "x.zip",
                                 reason="r", case_refs=["NOPE"])  # fmt: skip
        result = export.export_bundle(
            session, settings, INVESTIGATOR, tmp_path / "c3.zip", reason="r", case_refs=["C3"]
        )
        last = ledger.entries(session, [ledger.head(session)[0] - 1])[0].fields
        assert last["action"] == EventTag.BUNDLE_EXPORTED
        assert last["subjects"]["bundle"] == [result.bundle_id]
        payload = ledger.payloads(session, keyring, [last["seq"]])[last["seq"]]
        assert payload is not None
        assert payload["payload"]["manifest_sha256"] == result.manifest_sha256
    assert not (tmp_path / "x.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_export_after_a_survivor_asked_for_deletion_still_verifies(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, photos: list[Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    ids = record_series(sessions, keyring, photos)
    with transaction(sessions) as session:
        captures.shred_case(session, keyring, CASEWORKER, "C1")
    with transaction(sessions) as session:
        result = export.export_bundle(session, settings, INVESTIGATOR, tmp_path / "s.zip",
                                      reason="after deletion", series_id="S1")  # fmt: skip
    report = verify_bundle(result.path)
    assert report.ok, report.problems
    files = read_zip(result.path)
    assert ids["warc"] not in "".join(files)  # its capture is gone
    assert b"C1" in files["ledger/entries.jsonl"]  # but the record that it existed is not


def test_a_timestamp_from_an_authority_covers_the_manifest(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, photos: list[Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    record_series(sessions, keyring, photos)
    with timestamp_authority() as (url, authority):
        stamped = settings.model_copy(update={"evidence_tsa_url": url})
        with transaction(sessions) as session:
            result = export.export_bundle(session, stamped, INVESTIGATOR, tmp_path / "t.zip",
                                          reason="timestamped", series_id="S1")  # fmt: skip
        assert result.timestamped
        folder = tmp_path / "t"
        zipfile.ZipFile(result.path).extractall(folder)
        subprocess.run(
            ["openssl", "ts", "-verify", "-data", "manifest.json", "-in",
             "timestamp/manifest.tsr", "-CAfile", str(authority / "ca.crt"),
             "-untrusted", str(authority / "tsa.crt")],
            cwd=folder, check=True, capture_output=True,
        )  # fmt: skip
    report = verify_bundle(result.path)
    assert report.ok and report.timestamped
    files = read_zip(result.path)
    files["timestamp/manifest.tsr"] = read_zip(result.path)["timestamp/manifest.tsr"][:-40]
    manifest = json.loads(files["manifest.json"])
    manifest["reason"] = "changed"
    files["manifest.json"] = json.dumps(manifest).encode()
    codes = {p.code for p in verify_bundle(write_zip(tmp_path / "x.zip", files)).problems}
    assert {"manifest_signature", "timestamp_mismatch"} <= codes


def test_an_unreachable_authority_stops_the_export_cleanly(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, photos: list[Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    from chorus.errors import TimestampError

    record_series(sessions, keyring, photos)
    stamped = settings.model_copy(
        update={"evidence_tsa_url": "http://127.0.0.1:9/tsa", "evidence_tsa_timeout_s": 2}
    )
    with pytest.raises(TimestampError), transaction(sessions) as session:
        export.export_bundle(session, stamped, INVESTIGATOR, tmp_path / "n.zip",
                             reason="r", series_id="S1")  # fmt: skip
    assert not (tmp_path / "n.zip").exists()
    assert isinstance(settings.evidence_signing_key, SecretStr)
