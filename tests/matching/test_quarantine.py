"""An entry that suddenly matches many different items is quarantined pending review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from chorus.matching import bank, exchange
from chorus.matching.bank import SignalInput
from chorus.matching.quarantine import QuarantinePolicy, item_digest, record_observations
from chorus.store.session import transaction

POLICY = QuarantinePolicy(max_distinct_items=5, window=timedelta(hours=1))


def _entry(sessions: sessionmaker[Session]) -> tuple[int, str]:
    with transaction(sessions) as session:
        entry = bank.register(
            session, owner_id="c", provenance="exchange_import", signals=SignalInput(md5="c" * 32)
        )
        return entry.id, entry.public_id


def test_many_distinct_items_quarantine_the_entry(sessions: sessionmaker[Session]) -> None:
    pk, public_id = _entry(sessions)
    with transaction(sessions) as session:
        # the same item matched again and again is not suspicious
        for _ in range(20):
            assert (
                record_observations(
                    session, {pk: {item_digest("md5", "1" * 32)}}, source="lookup", policy=POLICY
                )
                == []
            )
        for i in range(4):
            record_observations(
                session,
                {pk: {item_digest("md5", f"{i + 2:032x}")}},
                source="lookup",
                policy=POLICY,
            )
        assert bank.get_entry(session, public_id).status == "active"
        quarantined = record_observations(
            session, {pk: {item_digest("md5", "f" * 32)}}, source="lookup", policy=POLICY
        )
    assert quarantined == [public_id]
    with transaction(sessions) as session:
        entry = bank.get_entry(session, public_id)
        assert entry.status == "quarantined"
        assert "review" in (entry.status_reason or "")
        ops = [c.op for c in exchange.feed(session, None).changes]
        assert ops == ["add", "delete"]  # partners drop it from their copies too
        bank.release(session, public_id)
    with transaction(sessions) as session:
        assert bank.get_entry(session, public_id).status == "active"


def test_false_positive_reports_count(sessions: sessionmaker[Session]) -> None:
    _pk, public_id = _entry(sessions)
    with transaction(sessions) as session:
        for _ in range(6):
            exchange.record_feedback(
                session,
                entry_id=public_id,
                verdict="false_positive",
                api_key_id=None,
                policy=POLICY,
            )
        assert bank.get_entry(session, public_id).status == "quarantined"


def test_blocked_feedback_alone_does_not_quarantine(sessions: sessionmaker[Session]) -> None:
    _pk, public_id = _entry(sessions)
    with transaction(sessions) as session:
        for _ in range(10):
            exchange.record_feedback(
                session, entry_id=public_id, verdict="blocked", api_key_id=None, policy=POLICY
            )
        assert bank.get_entry(session, public_id).status == "active"
