"""Matches by the robust signal alone are held for a caseworker: captured as evidence, but
not told, counted, alerted or offered for takedowns until confirmed; a rejection counts
against the bank entry and discards the capture; a later PDQ match confirms by itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import alerts
from chorus.cases import service as cases
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, CaseAlert
from chorus.config import Settings
from chorus.errors import (
    AccessDeniedError,
    EvidenceShreddedError,
    SightingHeldError,
    SightingReviewError,
)
from chorus.evidence import audit, captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.evidence.warc import Exchange, build_warc, read_responses
from chorus.fingerprint.benchmark.transforms import by_name
from chorus.matching.identify import EntryMatch
from chorus.matching.models import BankEntry, MatchObservation, PartnerFeedback
from chorus.monitor import review, sightings, targets
from chorus.monitor.models import Sighting
from chorus.monitor.pipeline import Monitor
from chorus.monitor.sources.base import MediaRef
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction

from .board import Board, running
from .test_board_monitor import due_now, register

CASEWORKER = Actor(Role.CASEWORKER, "cw-3")
INVESTIGATOR = Actor(Role.INVESTIGATOR, "officer-7")


def _case(sessions: sessionmaker[Session], settings: Settings) -> str:
    answers = IntakeAnswers(what_was_shared="Photos of me", own_details_seen={"town": "Todmorden"})
    with transaction(sessions) as session:
        return cases.file_report(session, KeyRing(settings), answers).case_reference


def _held_on_a_board(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path], monitor: Monitor,
    base: str, board: Board,
) -> tuple[str, str, list[str]]:  # fmt: skip
    """A case, two banked photos, and a centre crop of each posted (PDQ misses both)."""
    case = _case(sessions, settings)
    banked = register(sessions, photos[10:12], owner=case)
    crop = by_name(["crop90_centre"])[0]
    rng = np.random.default_rng(5)
    opening = board.post(None, crop.apply(Image.open(photos[10]), rng), "from todmorden")
    board.post(opening.no, crop.apply(Image.open(photos[11]), rng), "another")
    with transaction(sessions) as session:
        targets.add(session, f"{base}/b/thread/{opening.no}.json", "4chan")
    report = monitor.run_once()
    assert len(report.sightings) == 2 and sorted(report.held) == sorted(report.sightings)
    return case, banked[0], report.held


def test_held_until_confirmed(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    keyring = KeyRing(settings)
    board = Board()
    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        case, _entry, held = _held_on_a_board(sessions, settings, photos, monitor, base, board)
        first, second = sorted(held)
        with transaction(sessions) as session:
            rows = session.scalars(select(Sighting)).all()
            assert {(r.review, r.signal_type) for r in rows} == {("held", "robust")}
            # captured at once, for investigators only
            for row in rows:
                _info, warc = captures.read(session, keyring, INVESTIGATOR, row.capture_id or "",
                                            reason="review")  # fmt: skip
                assert row.media_url in {r.url for r in read_responses(warc)}
            # nothing told, counted, alerted or offered for takedowns
            assert sightings.progress_for_owner(session, case).found == 0
            assert sightings.actionable(session, case) == []
            assert session.scalar(select(func.count()).select_from(CaseAlert)) == 0
            assert session.scalar(select(Case.risk_level)) == "standard"
            with pytest.raises(SightingHeldError, match="waiting for a caseworker"):
                sightings.for_takedown(session, first)
            queue = review.review_queue(session, by=CASEWORKER)
            with pytest.raises(AccessDeniedError):  # partners and survivors never see it
                review.review_queue(session, by=Actor(Role.PARTNER, "p-1"))
            assert [q.public_id for q in queue] == sorted(held, key=lambda p: next(
                (r.first_seen, r.id) for r in rows if r.public_id == p))  # fmt: skip
            assert all(q.signal_type == "robust" and 0 < q.distance <= 44 for q in queue)
            assert all(q.case == case and q.capture_id for q in queue)
            assert not any(isinstance(v, bytes) for q in queue for v in vars(q).values())

        # Refused with a clear reason, and nothing changes.
        with transaction(sessions) as session:
            with pytest.raises(AccessDeniedError):
                review.confirm(session, keyring, first, by=Actor(Role.SURVIVOR, case),
                               reason="mine")  # fmt: skip
            with pytest.raises(SightingReviewError, match="Say why"):
                review.confirm(session, keyring, first, by=CASEWORKER, reason="  ")
            with pytest.raises(SightingReviewError, match="No sighting"):
                review.confirm(session, keyring, "SG-NOPE", by=CASEWORKER, reason="yes")
            assert len(review.review_queue(session, by=CASEWORKER)) == 2
            assert review.held_count(session, by=CASEWORKER) == 2

        with transaction(sessions) as session:
            review.confirm(session, keyring, first, by=CASEWORKER,
                           reason="the survivor recognised it")  # fmt: skip
        with transaction(sessions) as session:
            with pytest.raises(SightingReviewError, match="already confirmed"):
                review.confirm(session, keyring, first, by=CASEWORKER, reason="again")
            assert [q.public_id for q in review.review_queue(session, by=CASEWORKER)] == [second]
            assert sightings.progress_for_owner(session, case).found == 1
            assert [v.public_id for v in sightings.actionable(session, case)] == [first]
            assert sightings.for_takedown(session, first).state == "present"
            # the alert held with it (their town beside the copy) is raised now
            alert = session.scalars(select(CaseAlert)).one()
            assert alert.sighting == first and alert.details == ["town"]
            assert session.scalar(select(Case.risk_level)) != "standard"
            assert any("your town" in a.text for a in alerts.alerts_for(session, case))
            confirmed = session.scalar(select(Sighting).where(Sighting.public_id == first))
            assert confirmed is not None and confirmed.reviewed_by == "caseworker:cw-3"
            events = ledger.entries(
                session, sorted(ledger.seqs_about(session, "sighting", [first]))
            )
            actions = [e.fields["action"] for e in events]
            assert actions[:3] == [
                EventTag.CAPTURE_STORED,
                EventTag.SIGHTING_RECORDED,
                EventTag.SIGHTING_HELD,
            ]
            assert EventTag.SIGHTING_CONFIRMED in actions
            assert audit.verify_ledger(session, settings).ok


def test_rejected_counts_against_the_entry_and_discards_the_capture(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    keyring = KeyRing(settings)
    board = Board()
    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        case, _entry, held = _held_on_a_board(sessions, settings, photos, monitor, base, board)
        with transaction(sessions) as session:
            target = session.scalar(select(Sighting).where(Sighting.public_id == held[0]))
            assert target is not None
            entry, capture = target.bank_entry, target.capture_id or ""
            review.reject(session, keyring, held[0], by=CASEWORKER,
                          reason="a different person's photo")  # fmt: skip
        with transaction(sessions) as session:
            # the false match is recorded the way partners' false_positive feedback is
            pk = session.scalar(select(BankEntry.id).where(BankEntry.public_id == entry))
            feedback = session.scalars(select(PartnerFeedback)).one()
            assert (feedback.entry_id, feedback.verdict) == (pk, "false_positive")
            assert session.scalar(
                select(func.count()).select_from(MatchObservation)
                .where(MatchObservation.entry_id == pk, MatchObservation.source == "feedback")
            ) == 1  # fmt: skip
            # the capture (someone else's photo) can no longer be read
            with pytest.raises(EvidenceShreddedError):
                captures.read(session, keyring, INVESTIGATOR, capture, reason="look")
            info = next(c for c in captures.for_cases(session, [case]) if c.public_id == capture)
            assert not info.available
            with pytest.raises(SightingHeldError, match="not to be a match"):
                sightings.for_takedown(session, held[0])
            with pytest.raises(SightingReviewError, match="already rejected"):
                review.reject(session, keyring, held[0], by=CASEWORKER, reason="again")
            assert [q.public_id for q in review.review_queue(session, by=CASEWORKER)] == [held[1]]
            assert sightings.progress_for_owner(session, case).found == 0
            assert session.scalar(select(func.count()).select_from(CaseAlert)) == 0
            seqs = ledger.seqs_about(session, "sighting", [held[0]])
            actions = [e.fields["action"] for e in ledger.entries(session, seqs)]
            assert EventTag.SIGHTING_REJECTED in actions
            discarded = ledger.entries(session, ledger.seqs_about(session, "capture", [capture]))
            assert EventTag.CAPTURE_DISCARDED in [e.fields["action"] for e in discarded]
            assert audit.verify_ledger(session, settings).ok
        # no longer re-checked, and not held again when seen again
        due_now(sessions)
        with transaction(sessions) as session:
            due = sightings.due_for_recheck(session)
            rejected_pk = session.scalar(select(Sighting.id).where(Sighting.public_id == held[0]))
            assert rejected_pk not in due and len(due) == 1


def test_a_later_pdq_match_confirms_automatically(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    keyring = KeyRing(settings)
    case = _case(sessions, settings)
    [entry] = register(sessions, photos[:1], owner=case)
    ref = MediaRef(url="http://board.example/b/1.jpg", page_url="http://board.example/b/t/1",
                   post_id="1", thread="b/1")  # fmt: skip
    body = photos[0].read_bytes()

    def warc() -> bytes:
        return build_warc([Exchange(url=ref.url, status=200, reason="OK",
                                    response_headers=[("Content-Type", "image/jpeg")],
                                    body=body, fetched_at=datetime.now(UTC))])  # fmt: skip

    robust = EntryMatch(entry, case, "robust", 30, 44, frozenset({"robust"}))
    pdq = EntryMatch(entry, case, "robust", 3, 44, frozenset({"robust", "pdq"}))
    with transaction(sessions) as session:
        first = sightings.record(session, keyring, ref, robust, warc)
        assert first.new and first.held
        sighting = first.sighting.public_id
    with transaction(sessions) as session:  # robust alone again: still held
        again = sightings.record(session, keyring, ref, robust, warc)
        assert again.held and not again.confirmed
    with transaction(sessions) as session:
        done = sightings.record(session, keyring, ref, pdq, warc)
        assert done.confirmed and not done.held and not done.new
    with transaction(sessions) as session:
        assert review.review_queue(session, by=CASEWORKER) == []
        assert sightings.progress_for_owner(session, case).found == 1
        row = session.scalar(select(Sighting).where(Sighting.public_id == sighting))
        assert row is not None and row.review == "confirmed" and row.reviewed_by == "system:monitor"
        seqs = ledger.seqs_about(session, "sighting", [sighting])
        confirmed = [e for e in ledger.entries(session, seqs)
                     if e.fields["action"] == EventTag.SIGHTING_CONFIRMED]  # fmt: skip
        assert len(confirmed) == 1 and confirmed[0].fields["actor"] == "system:monitor"
        sealed = ledger.payloads(session, keyring, [confirmed[0].seq])[confirmed[0].seq]
        assert sealed is not None
        payload = sealed["payload"]
        assert payload["automatic"] is True
        assert "also matched by" in payload["reason"]


def test_a_local_match_is_held_with_its_corners_until_pdq_confirms_it(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    keyring = KeyRing(settings)
    case = _case(sessions, settings)
    [entry] = register(sessions, photos[:1], owner=case)
    ref = MediaRef(url="http://board.example/b/2.jpg", page_url="http://board.example/b/t/2",
                   post_id="2", thread="b/2")  # fmt: skip

    def warc() -> bytes:
        return build_warc([Exchange(url=ref.url, status=200, reason="OK",
                                    response_headers=[("Content-Type", "image/jpeg")],
                                    body=b"x", fetched_at=datetime.now(UTC))])  # fmt: skip

    by_local = EntryMatch(entry, case, "local", 40, 80, frozenset({"local"}), inliers=23)
    assert by_local.robust_only
    with transaction(sessions) as session:
        first = sightings.record(session, keyring, ref, by_local, warc)
        assert first.new and first.held
        assert first.sighting.signal_type == "local" and first.sighting.corners == 23
        (queued,) = review.review_queue(session, by=CASEWORKER)
        assert queued.signal_type == "local" and queued.corners == 23
        public_id = first.sighting.public_id
    pdq = EntryMatch(entry, case, "pdq", 4, 31, frozenset({"pdq", "local"}))
    with transaction(sessions) as session:
        done = sightings.record(session, keyring, ref, pdq, warc)
        assert done.confirmed and done.sighting.corners is None
        seqs = ledger.seqs_about(session, "sighting", [public_id])
        confirmed = [e for e in ledger.entries(session, seqs)
                     if e.fields["action"] == EventTag.SIGHTING_CONFIRMED]  # fmt: skip
        sealed = ledger.payloads(session, keyring, [confirmed[0].seq])[confirmed[0].seq]
        assert sealed is not None
        assert "held: local, 23 corners agree" in sealed["payload"]["reason"]
