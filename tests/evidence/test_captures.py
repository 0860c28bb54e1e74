"""Captures: encrypted at rest, investigators only, every view in the ledger, shreddable."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import (
    AccessDeniedError,
    CaptureTooLargeError,
    EvidenceError,
    EvidenceKeyError,
    EvidenceShreddedError,
)
from chorus.evidence import audit, captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.models import Capture
from chorus.evidence.tags import EventTag
from chorus.evidence.warc import Exchange, build_warc, read_responses
from chorus.store.session import transaction

from .conftest import CASEWORKER, INVESTIGATOR, MONITOR, PARTNER, SURVIVOR
from .fixtures import board_handler, serve


@pytest.fixture
def photo(photos: list[Path]) -> bytes:
    return photos[0].read_bytes()


@pytest.fixture
def warc(photo: bytes) -> bytes:
    """The monitor's capture of a real (local) board thread: the page and its image."""
    with serve(board_handler(photo)) as base, httpx.Client() as client:
        exchanges = [
            Exchange.from_httpx(client.get(f"{base}/b/thread/1001")),
            Exchange.from_httpx(client.get(f"{base}/src/1001.jpg")),
        ]
    return build_warc(exchanges)


def test_a_warc_keeps_urls_headers_and_bodies(warc: bytes, photo: bytes) -> None:
    page, image = read_responses(warc)
    assert page.url.endswith("/b/thread/1001") and image.url.endswith("/src/1001.jpg")
    assert ("X-Board", "test-board") in page.headers
    assert image.body == photo and image.status == 200
    assert page.fetched_at.endswith("Z")


def test_captures_are_encrypted_at_rest_and_opened_by_investigators_only(
    sessions: sessionmaker[Session], keyring: KeyRing, warc: bytes, photo: bytes
) -> None:
    with transaction(sessions) as session:
        info = captures.store(
            session, keyring, MONITOR, case_ref="C1", kind="warc", data=warc,
            filename="thread.warc.gz", source_url="http://127.0.0.1/b/thread/1001",
        )  # fmt: skip
    with transaction(sessions) as session:
        stored = session.execute(text("SELECT ciphertext FROM evidence_captures")).scalar_one()
        assert photo[1000:1032] not in bytes(stored) and warc[:64] not in bytes(stored)
        for someone in (CASEWORKER, PARTNER, SURVIVOR, MONITOR):
            with pytest.raises(AccessDeniedError):
                captures.read(session, keyring, someone, info.public_id, reason="curious")
        with pytest.raises(EvidenceError, match="why"):
            captures.read(session, keyring, INVESTIGATOR, info.public_id, reason=" ")
        size_before = ledger.head(session)[0]
        opened, data = captures.read(
            session, keyring, INVESTIGATOR, info.public_id, reason="Reviewing for charge file"
        )
        assert data == warc and opened.sha256 == info.sha256
        seq = ledger.head(session)[0] - 1
        assert seq == size_before
        entry = ledger.entries(session, [seq])[0].fields
        assert entry["action"] == EventTag.CAPTURE_VIEWED
        assert entry["actor"] == "investigator:officer-7"
        assert entry["subjects"] == {"capture": [info.public_id], "case": ["C1"]}
        payload = ledger.payloads(session, keyring, [seq])[seq]
        assert payload is not None and payload["payload"]["reason"] == "Reviewing for charge file"


BAD_CAPTURES = {
    "empty": ("warc", b"", "empty"),
    "not compressed": ("warc", b"<html>hello</html>" * 10, "gzip-compressed"),
    "gzip of a page, not a warc": ("warc", gzip.compress(b"<html>x</html>"), "not a readable WARC"),
    "truncated warc": ("warc", None, "truncated"),
    "gzip of nothing": ("warc", gzip.compress(b""), "no responses"),
    "screenshot that is not an image": ("screenshot", b"%PDF-1.7 ...", "PNG, JPEG or WebP"),
}


@pytest.mark.parametrize("name", BAD_CAPTURES)
def test_bad_captures_are_refused_and_change_nothing(
    sessions: sessionmaker[Session], keyring: KeyRing, warc: bytes, name: str
) -> None:
    kind, data, message = BAD_CAPTURES[name]
    data = warc[: len(warc) // 2] if data is None else data
    with pytest.raises(EvidenceError, match=message), transaction(sessions) as session:
        captures.store(session, keyring, MONITOR, case_ref="C1", kind=kind, data=data, filename="x")
    with transaction(sessions) as session:
        assert ledger.head(session)[0] == 0
        assert session.scalar(select(Capture.id)) is None


def test_a_warc_that_expands_too_far_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from chorus.evidence import warc as warc_module

    monkeypatch.setattr(warc_module, "_MAX_EXPANDED", 1 << 20)
    bomb = gzip.compress(bytes(4 << 20))
    assert len(bomb) < 10_000
    with pytest.raises(EvidenceError, match="expands to more than"):
        read_responses(bomb)


def test_oversized_captures_and_partners_are_refused(
    sessions: sessionmaker[Session], keyring: KeyRing, photo: bytes
) -> None:
    with transaction(sessions) as session:
        with pytest.raises(CaptureTooLargeError):
            captures.store(
                session, keyring, MONITOR, case_ref="C1", kind="screenshot", data=photo,
                filename="s.jpg", max_bytes=len(photo) - 1,
            )  # fmt: skip
        with pytest.raises(AccessDeniedError):
            captures.store(
                session, keyring, PARTNER, case_ref="C1", kind="screenshot", data=photo,
                filename="s.jpg",
            )  # fmt: skip
        info = captures.store(
            session, keyring, SURVIVOR, case_ref="C1", kind="screenshot", data=photo,
            filename="../../etc/passwd.jpg",
        )  # fmt: skip
        assert "/" not in info.filename and info.media_type == "image/jpeg"


def test_a_ciphertext_moved_to_another_capture_does_not_decrypt(
    sessions: sessionmaker[Session], keyring: KeyRing, photo: bytes, warc: bytes
) -> None:
    with transaction(sessions) as session:
        a = captures.store(session, keyring, SURVIVOR, case_ref="C1", kind="screenshot",
                           data=photo, filename="a.jpg")  # fmt: skip
        b = captures.store(session, keyring, MONITOR, case_ref="C1", kind="warc",
                           data=warc, filename="b.warc.gz")  # fmt: skip
        row_a = session.scalars(select(Capture).where(Capture.public_id == a.public_id)).one()
        session.execute(
            update(Capture)
            .where(Capture.public_id == b.public_id)
            .values(ciphertext=row_a.ciphertext, nonce=row_a.nonce)
        )
        with pytest.raises(EvidenceKeyError, match="integrity"):
            captures.read(session, keyring, INVESTIGATOR, b.public_id, reason="check")


def test_shredding_a_case_makes_its_data_unreadable_and_the_ledger_still_verifies(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, warc: bytes
) -> None:
    with transaction(sessions) as session:
        kept = captures.store(session, keyring, MONITOR, case_ref="C2", kind="warc",
                              data=warc, filename="k.warc.gz")  # fmt: skip
        gone = captures.store(session, keyring, MONITOR, case_ref="C1", kind="warc",
                              data=warc, filename="g.warc.gz")  # fmt: skip
        ledger.append(session, EventTag.REPORT_RECEIVED, "survivor:C1", {"case": "C1"},
                      {"school": "Example High"}, scope="case:C1", keyring=keyring)  # fmt: skip
    with transaction(sessions) as session:
        with pytest.raises(AccessDeniedError):
            captures.shred_case(session, keyring, PARTNER, "C1")
        counts = captures.shred_case(session, keyring, CASEWORKER, "C1")
        assert counts == {"keys": 1, "captures": 1, "payloads": 2}
    with transaction(sessions) as session:
        with pytest.raises(EvidenceShreddedError):
            captures.read(session, keyring, INVESTIGATOR, gone.public_id, reason="check")
        assert captures.read(session, keyring, INVESTIGATOR, kept.public_id, reason="check")
        dump = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for table in ("ledger_entries", "ledger_payloads", "evidence_captures")
            for row in session.execute(text(f"SELECT * FROM {table}"))
            for v in row
            if v is not None
        )
        assert b"Example High" not in dump
        report = audit.verify_ledger(session, settings)
        assert report.ok, report.problems
        last = ledger.entries(session, [ledger.head(session)[0] - 2])[0].fields
        assert last["action"] == EventTag.CASE_DATA_DELETED
