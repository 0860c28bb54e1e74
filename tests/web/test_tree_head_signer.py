"""`chorus serve` signs the evidence ledger's head when it has grown, and not otherwise."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from chorus.evidence import ledger, tree_heads
from chorus.evidence.tags import EventTag
from chorus.store.session import transaction

from .server import running_server


def wait_for_heads(sessions: sessionmaker[Session], count: int) -> list[tree_heads.TreeHead]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with transaction(sessions) as session:
            heads = tree_heads.all_heads(session)
        if len(heads) >= count:
            return heads
        time.sleep(0.1)
    raise AssertionError(f"expected {count} signed tree heads")


def test_the_server_signs_a_grown_ledger(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        for n in range(3):
            ledger.append(session, EventTag.NOTICE_SENT, "system:takedowns", {"notice": f"N{n}"})
    with running_server(database_url, tmp_path, evidence_sign_interval_s=1):
        first = wait_for_heads(sessions, 1)[0]
        assert first.tree_size == 3
        time.sleep(1.5)  # a second interval passes with no new entries: nothing new signed
        with transaction(sessions) as session:
            assert len(tree_heads.all_heads(session)) == 1
            ledger.append(session, EventTag.NOTICE_SENT, "system:takedowns", {"notice": "N3"})
        second = wait_for_heads(sessions, 2)[1]
        assert second.tree_size == 4 and second.key_id == first.key_id
