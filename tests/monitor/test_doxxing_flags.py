"""Doxxing flags: a survivor's own details written beside a copy raise their case's risk,
are told to them in the portal's words, and leave no text of the post behind."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import alerts
from chorus.cases import service as cases
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, CaseAlert
from chorus.config import Settings
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.monitor import targets
from chorus.monitor.pipeline import Monitor
from chorus.store.session import transaction

from .board import Board, running
from .test_board_monitor import register


def _case(sessions: sessionmaker[Session], settings: Settings, own: dict[str, str]) -> str:
    answers = IntakeAnswers(what_was_shared="Photos of me", own_details_seen=own)
    with transaction(sessions) as session:
        return cases.file_report(session, KeyRing(settings), answers).case_reference


def test_own_details_beside_a_copy_raise_the_risk(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    jane = _case(sessions, settings, {"name": "Jane Doe", "town": "Hebden Bridge"})
    other = _case(sessions, settings, {"name": "Amira Khan", "school": "Calder High"})
    register(sessions, photos[:2], owner=jane)
    register(sessions, photos[2:3], owner=other)
    board = Board()
    opening = board.post(None, photos[5].read_bytes(), "girls from hebden bridge")
    board.post(opening.no, photos[0].read_bytes(), "this one is jayne DOE")
    board.post(opening.no, photos[1].read_bytes(), "another")
    board.post(opening.no, photos[2].read_bytes(), "no names here")

    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/thread/{opening.no}.json", "4chan")
        assert len(monitor.run_once().sightings) == 3

    with transaction(sessions) as session:
        rows = session.scalars(select(CaseAlert).order_by(CaseAlert.id)).all()
        assert sorted(tuple(r.details) for r in rows) == [("name", "town"), ("town",)]
        risk = dict(session.execute(select(Case.reference, Case.risk_level)).all())
        assert risk == {jane: "high", other: "standard"}
        # only kinds are kept: no word of the post is stored with the alert
        assert all(r.sighting and r.sighting.startswith("SG-") for r in rows)
        about_jane = ledger.entries(session, ledger.seqs_about(session, "case", [jane]))
        flagged = [e for e in about_jane if e.fields["action"] == EventTag.CASE_OWN_DETAILS_SEEN]
        assert len(flagged) == 2
        texts = [a.text for a in alerts.alerts_for(session, jane)]
        assert any("your name and your town" in t for t in texts)
        assert not any("jayne" in t.casefold() or "hebden" in t.casefold() for t in texts)
        assert alerts.alerts_for(session, other) == []
