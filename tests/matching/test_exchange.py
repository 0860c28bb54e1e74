"""The partner feed: additions and deletions, paged by checkpoint, withdrawals included."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import InvalidSignalError
from chorus.matching import bank, exchange
from chorus.matching.bank import SignalInput
from chorus.store.session import transaction


def _add(sessions: sessionmaker[Session], n: int) -> list[str]:
    ids = []
    with transaction(sessions) as session:
        for i in range(n):
            entry = bank.register(
                session,
                owner_id=f"case-{i}",
                provenance="caseworker",
                signals=SignalInput(md5=f"{i + 1:032x}", sha256=f"{i + 1:064x}"),
            )
            ids.append(entry.public_id)
    return ids


def test_paging_replays_every_change_once(sessions: sessionmaker[Session]) -> None:
    ids = _add(sessions, 7)
    with transaction(sessions) as session:
        bank.withdraw(session, ids[2])
    seen, checkpoint, pages = [], None, 0
    while True:
        with transaction(sessions) as session:
            page = exchange.feed(session, checkpoint, page_size=3)
        seen.extend((c.op, c.entry_id) for c in page.changes)
        checkpoint, pages = page.checkpoint, pages + 1
        if not page.has_more:
            break
    assert pages == 3
    assert seen == [("add", i) for i in ids] + [("delete", ids[2])]
    with transaction(sessions) as session:
        assert exchange.feed(session, checkpoint).changes == ()


def test_feed_carries_signals_but_no_owner(sessions: sessionmaker[Session]) -> None:
    _add(sessions, 1)
    with transaction(sessions) as session:
        (change,) = exchange.feed(session, None).changes
    assert {s.signal_type for s in change.signals} == {"md5", "sha256"}
    assert "case-0" not in repr(change)


@pytest.mark.parametrize("checkpoint", ["abc", "-1", "1.5"])
def test_bad_checkpoints_are_refused(sessions: sessionmaker[Session], checkpoint: str) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidSignalError):
        exchange.feed(session, checkpoint)


def test_page_size_is_bounded(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidSignalError):
        exchange.feed(session, None, page_size=100_000)
