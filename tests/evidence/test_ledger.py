"""The live ledger on SQLite and PostgreSQL: appends, proofs, append-only, verify-ledger."""

from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import EvidenceError
from chorus.evidence import audit, ledger, tree_heads
from chorus.evidence.keys import KeyRing
from chorus.evidence.models import APPEND_ONLY_TABLES
from chorus.evidence.offline import ed25519
from chorus.evidence.offline.proofs import (
    check_chain,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from chorus.evidence.tags import EventTag
from chorus.store.session import transaction

from .conftest import new_key


def fill(sessions: sessionmaker[Session], n: int, keyring: KeyRing | None = None) -> None:
    with transaction(sessions) as session:
        ledger.append_many(
            session,
            [
                ledger.Event(
                    EventTag.SIGHTING_RECORDED,
                    "system:monitor",
                    {"case": f"C{i % 3}", "sighting": f"S{i}"},
                    {"distance": i % 31} if keyring else None,
                    scope=f"case:C{i % 3}",
                )
                for i in range(n)
            ],
            keyring,
        )


def test_entries_chain_and_prove_at_every_size(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    fill(sessions, 37, keyring)
    with transaction(sessions) as session:
        size, root = ledger.head(session)
        stored = ledger.entries(session, range(size))
        assert size == 37 and [e.seq for e in stored] == list(range(37))
        assert check_chain(e.body.encode() for e in stored) is None
        assert root == root_from_leaf_hashes(e.leaf_hash for e in stored)
        for tree_size in (1, 2, 5, 16, 17, 37):
            tree_root = ledger.root_at(session, tree_size)
            for seq in range(tree_size):
                proof = ledger.inclusion_proof(session, seq, tree_size)
                assert verify_inclusion(seq, tree_size, stored[seq].leaf_hash, proof, tree_root)
            for old in range(1, tree_size + 1):
                proof = ledger.consistency_proof(session, old, tree_size)
                old_root = ledger.root_at(session, old)
                assert verify_consistency(old, tree_size, old_root, tree_root, proof)
        with pytest.raises(EvidenceError):
            ledger.inclusion_proof(session, 37, 37)


def test_payloads_are_salted_digests_and_readable_with_the_key(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        one = ledger.append(
            session, EventTag.REPORT_RECEIVED, "survivor:C1", {"case": "C1"}, {"route": "web"},
            scope="case:C1", keyring=keyring,
        )  # fmt: skip
        two = ledger.append(
            session, EventTag.REPORT_RECEIVED, "survivor:C2", {"case": "C2"}, {"route": "web"},
            scope="case:C2", keyring=keyring,
        )  # fmt: skip
        bodies = {e.seq: e.fields for e in ledger.entries(session, [one.seq, two.seq])}
        # the same payload gives different digests: a known payload cannot be confirmed
        assert bodies[one.seq]["payload_sha256"] != bodies[two.seq]["payload_sha256"]
        assert "web" not in str(bodies)
        opened = ledger.payloads(session, keyring, [one.seq, two.seq])
        assert opened[one.seq] is not None and opened[one.seq]["payload"] == {"route": "web"}
        raw = session.execute(text("SELECT ciphertext FROM ledger_payloads")).scalars().all()
        assert all(b"web" not in bytes(c) for c in raw)


def test_subjects_that_look_like_image_hashes_are_refused(
    sessions: sessionmaker[Session],
) -> None:
    pdq = "f" * 64
    with transaction(sessions) as session, pytest.raises(EvidenceError, match="looks like a hash"):
        ledger.append(session, EventTag.SIGHTING_RECORDED, "system:monitor", {"signal": pdq})
    with transaction(sessions) as session, pytest.raises(EvidenceError, match="needs the evidence"):
        ledger.append(session, EventTag.REPORT_RECEIVED, "x", {"case": "C1"}, {"a": 1})
    with transaction(sessions) as session, pytest.raises(ValueError, match="not a valid EventTag"):
        ledger.append(session, "cases:report:invented", "x", {"case": "C1"})  # type: ignore[arg-type]


def test_concurrent_appenders_never_share_a_sequence_number(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for i in range(15):
                with transaction(sessions) as session:
                    ledger.append(
                        session, EventTag.SIGHTING_RECORDED, name, {"sighting": f"{name}{i}"}
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with transaction(sessions) as session:
        report = audit.verify_ledger(session, settings)
        assert report.ok, report.problems
        assert report.entries == 60


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET seq = seq", "DELETE FROM {t}"])
def test_the_database_refuses_to_change_ledger_rows(
    sessions: sessionmaker[Session], settings: Settings, table: str, statement: str
) -> None:
    fill(sessions, 8)
    with transaction(sessions) as session:
        tree_heads.sign(session, settings)
    sql = statement.format(t=table)
    if table == "ledger_nodes":
        sql = sql.replace("seq = seq", "key = key")
    if table == "ledger_tree_heads":
        sql = sql.replace("seq = seq", "tree_size = tree_size")
    with pytest.raises(DatabaseError, match="append-only"), transaction(sessions) as session:
        session.execute(text(sql))


def test_emptying_the_ledger_at_once_is_refused(
    sessions: sessionmaker[Session], backend: str
) -> None:
    fill(sessions, 3)
    # PostgreSQL's TRUNCATE skips row triggers (a statement trigger guards it); SQLite's
    # truncate optimisation for an unqualified DELETE is off when the table has triggers.
    sql = (
        "TRUNCATE ledger_entries CASCADE"
        if backend == "postgresql"
        else "DELETE FROM ledger_entries"
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction(sessions) as session:
        session.execute(text(sql))
    with transaction(sessions) as session:
        assert ledger.head(session)[0] == 3 and len(ledger.entries(session, range(3))) == 3


def _bypass_triggers(engine: Engine, backend: str, sql: str) -> None:
    """What an attacker with full database access does: switch the guard off, then edit."""
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
            conn.exec_driver_sql(sql)
            conn.execute(text("SET session_replication_role = origin"))
        else:
            for name in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars():
                conn.execute(text(f"DROP TRIGGER {name}"))
            conn.exec_driver_sql(sql)


TAMPERING = {
    "body": (
        "UPDATE ledger_entries SET body = replace(body, 'system:monitor', 'system:other'), "
        "actor = 'system:other' WHERE seq = 5",
        "Entry 5",
    ),
    "leaf": (
        "UPDATE ledger_entries SET leaf_hash = (SELECT leaf_hash FROM ledger_entries "
        "WHERE seq = 1) WHERE seq = 2",
        "Entry 2",
    ),
    "deleted": ("DELETE FROM ledger_entries WHERE seq = 7", "Entry 7 is missing"),
    "node": (
        "UPDATE ledger_nodes SET hash = (SELECT leaf_hash FROM ledger_entries WHERE seq = 0) "
        "WHERE key = (SELECT min(key) FROM ledger_nodes)",
        "Merkle node",
    ),
    "subject": ("DELETE FROM ledger_subjects WHERE seq = 3 AND kind = 'case'", "Entry 3"),
    "tree head": (
        "UPDATE ledger_tree_heads SET body = replace(body, '\"tree_size\":12', "
        "'\"tree_size\":11'), tree_size = 11",
        "Tree head",
    ),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_verify_ledger_names_each_kind_of_tampering(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, backend: str, kind: str
) -> None:
    fill(sessions, 12)
    with transaction(sessions) as session:
        tree_heads.sign(session, settings)
        assert audit.verify_ledger(session, settings).ok
    sql, expected = TAMPERING[kind]
    _bypass_triggers(engine, backend, sql)
    with transaction(sessions) as session:
        report = audit.verify_ledger(session, settings)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def test_key_rotation_is_recorded_and_old_heads_need_a_trusted_key(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    fill(sessions, 4)
    with transaction(sessions) as session:
        first = tree_heads.sign(session, settings)
    old_public = base64_of(first.public_key)
    rotated = settings.model_copy(update={"evidence_signing_key": SecretStr(new_key())})
    with transaction(sessions) as session:
        second = tree_heads.sign(session, rotated)
        assert second.key_id != first.key_id
        assert second.tree_size == 5  # the rotation itself is an entry
        last = ledger.entries(session, [4])[0].fields
        assert last["action"] == EventTag.SIGNING_KEY_ROTATED
        assert last["subjects"]["signing_key"] == sorted([first.key_id, second.key_id])
        report = audit.verify_ledger(session, rotated)
        assert any("not a trusted key" in p for p in report.problems)
        trusting = rotated.model_copy(update={"evidence_trusted_public_keys": [old_public]})
        assert audit.verify_ledger(session, trusting).ok
        assert ed25519.verify(first.public_key, first.body.encode(), first.signature)
        assert leaf_hash(b"") != second.root_hash


def base64_of(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def test_bank_registration_and_withdrawal_are_on_record_by_id_only(
    sessions: sessionmaker[Session],
) -> None:
    from chorus.matching import bank
    from chorus.matching.bank import SignalInput

    pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    with transaction(sessions) as session:
        entry = bank.register(
            session, owner_id="case-5", provenance="caseworker",
            signals=SignalInput(pdq=pdq, quality=100), actor="caseworker:cw-3",
        )  # fmt: skip
        bank.withdraw(session, entry.public_id, "survivor asked", actor="survivor:case-5")
        bank.withdraw(session, entry.public_id, "again", actor="survivor:case-5")  # no-op
        size, _root = ledger.head(session)
        bodies = [e.fields for e in ledger.entries(session, range(size))]
    assert [b["action"] for b in bodies] == [
        EventTag.FINGERPRINTS_REGISTERED,
        EventTag.FINGERPRINTS_WITHDRAWN,
    ]
    assert bodies[0]["subjects"] == {"bank_entry": [entry.public_id], "case": ["case-5"]}
    assert bodies[1]["actor"] == "survivor:case-5"
    assert pdq not in str(bodies) and pdq[:16] not in str(bodies)
