"""The monitor against a real (local) 4chan-format board: sightings for exactly the banked
photos, removal verified on every URL (a cached thumbnail keeps a copy up), re-appearance."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence import audit, captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.evidence.warc import read_responses
from chorus.fingerprint import fingerprint_path
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.monitor import targets
from chorus.monitor.models import MonitorCounter, Sighting
from chorus.monitor.pipeline import Monitor
from chorus.monitor.sightings import urls
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction

from ..matching.keys import KEYS
from .board import Board, running


def jpeg(image: Image.Image, quality: int = 75) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def register(
    sessions: sessionmaker[Session], paths: list[Path], owner: str, keys: KeyRing = KEYS
) -> list[str]:
    """Bank these photos; their local features sealed with ``keys`` (the monitor's own key
    ring must share its master key to match by them: the monitor tests' settings do)."""
    ids = []
    with transaction(sessions) as session:
        for path in paths:
            record = fingerprint_path(path).as_record()
            entry = bank.register(session, owner_id=owner, provenance="survivor_device",
                                  signals=SignalInput.from_record(record), keys=keys)  # fmt: skip
            ids.append(entry.public_id)
    return ids


def due_now(sessions: sessionmaker[Session]) -> None:
    """Make every target and sighting due (instead of sleeping through the intervals)."""
    from sqlalchemy import update

    from chorus.monitor.models import MonitorTarget
    from chorus.store.base import utcnow

    with transaction(sessions) as session:
        session.execute(update(MonitorTarget).values(next_check_at=utcnow()))
        session.execute(update(Sighting).values(next_check_at=utcnow()))


def test_sightings_removal_and_reappearance(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    banked = register(sessions, photos[:2], owner="C-1")
    board = Board()
    original = Image.open(photos[0])
    copies = {
        "re-encoded": board.post(None, jpeg(original, quality=50), "look at this"),
        "resized and flipped": None,
    }
    thread = copies["re-encoded"].no
    small = ImageOps.mirror(
        Image.open(photos[1]).resize(
            (Image.open(photos[1]).width // 2, Image.open(photos[1]).height // 2)
        )
    )
    copies["resized and flipped"] = board.post(thread, jpeg(small))
    for other in photos[2:6]:  # not banked: fingerprinted and forgotten
        board.post(thread, other.read_bytes())

    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/catalog.json", "4chan")
        first = monitor.run_once()  # the catalog: discovers the thread
        assert first.targets == 1 and not first.sightings
        second = monitor.run_once()  # the thread
        assert second.media == 6
        assert len(second.sightings) == 2
        with transaction(sessions) as session:
            found = session.scalars(select(Sighting).order_by(Sighting.id)).all()
            assert sorted(s.bank_entry for s in found) == sorted(banked)
            assert all(s.owner_id == "C-1" and s.state == "present" for s in found)
            flipped = next(s for s in found if s.bank_entry == banked[1])
            assert flipped.signal_type in {"pdq", "robust"} and flipped.distance <= 44
            counters = dict(
                session.execute(select(MonitorCounter.name, MonitorCounter.value)).all()
            )
            assert counters["media_fingerprinted"] == 6
            # the capture holds the thread JSON and the image, as served
            investigator = Actor(Role.INVESTIGATOR, "officer-7")
            _info, warc = captures.read(session, KeyRing(settings), investigator,
                                        found[0].capture_id or "", reason="check")  # fmt: skip
            served = {r.url for r in read_responses(warc)}
            assert f"{base}/b/thread/{thread}.json" in served
            assert found[0].media_url in served
            sighting_ids = {s.bank_entry: s.public_id for s in found}

        # The post is deleted, but the board keeps serving its thumbnail.
        board.delete(copies["re-encoded"].no)
        due_now(sessions)
        assert monitor.run_once().removed == []
        with transaction(sessions) as session:
            gone = session.scalar(select(Sighting).where(Sighting.bank_entry == banked[0]))
            assert gone is not None and gone.state == "present"
            states = {u.role: u.state for u in urls(session, gone)}
            assert states == {"media": "removed", "page": "removed", "api": "removed",
                              "thumbnail": "present"}  # fmt: skip
        board.purge_thumbnails()
        due_now(sessions)
        assert monitor.run_once().removed == [sighting_ids[banked[0]]]

        # The same photo posted again in another thread: a re-appearance.
        again = board.post(None, jpeg(original, quality=60), "again")
        due_now(sessions)
        monitor.run_once()  # catalog: the new thread
        due_now(sessions)
        report = monitor.run_once()
        assert len(report.sightings) == 1
        with transaction(sessions) as session:
            new = session.scalar(select(Sighting).where(Sighting.public_id == report.sightings[0]))
            assert new is not None and new.reappearance_of == sighting_ids[banked[0]]
            assert new.thread == f"b/{again.no}"
            size, _ = ledger.head(session)
            actions = [e.fields["action"] for e in ledger.entries(session, range(size))]
            assert actions.count(EventTag.SIGHTING_RECORDED) == 3
            assert actions.count(EventTag.REMOVAL_VERIFIED) == 1
            assert actions.count(EventTag.SIGHTING_REAPPEARED) == 1
            assert audit.verify_ledger(session, settings).ok


@pytest.mark.parametrize("interval", [0, 0.2])
def test_a_photo_banked_after_it_was_seen_is_found_on_the_next_pass(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path], interval: float
) -> None:
    """Also with politeness on (the shared host gate writes to the database): the copy is
    fetched again for evidence outside the transaction that records it, so SQLite's
    single writer is never waited for by the same worker."""
    board = Board()
    board.post(None, photos[7].read_bytes())
    polite = settings.model_copy(update={"monitor_request_interval_s": interval})
    began = time.monotonic()
    with running(board) as base, Monitor(sessions, polite) as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/catalog.json", "4chan")
        monitor.run_once()
        assert monitor.run_once().sightings == []  # seen, matched nothing, forgotten
        due_now(sessions)
        assert monitor.run_once().media == 0  # not fetched again while the bank is unchanged
        register(sessions, photos[7:8], owner="C-9")
        time.sleep(0.6)  # the index re-reads the bank's change log at most twice a second
        due_now(sessions)
        report = monitor.run_once()
    assert report.media == 0 and len(report.sightings) == 1
    assert not report.skipped and time.monotonic() - began < 20
    with transaction(sessions) as session:
        sighting = session.scalar(select(Sighting))
        assert sighting is not None and sighting.owner_id == "C-9" and sighting.capture_id
