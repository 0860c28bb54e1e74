"""The bank: registration, validation of hostile signals, withdrawal, the change log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.errors import (
    BankEntryNotFoundError,
    ChorusError,
    InvalidSignalError,
    LowQualitySignalError,
)
from chorus.fingerprint import fingerprint_path
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.matching.models import BankChange, BankSignal
from chorus.store.session import transaction

from .keys import KEYS


def photo_signals(path: Path) -> SignalInput:
    return SignalInput.from_record(fingerprint_path(path).as_record())


def test_register_a_photo_with_all_variants(
    sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    with transaction(sessions) as session:
        entry = bank.register(
            session,
            owner_id="case-1",
            provenance="survivor_device",
            signals=photo_signals(photos[0]),
            keys=KEYS,
        )
        public_id = entry.public_id
    with transaction(sessions) as session:
        entry = bank.get_entry(session, public_id)
        kinds = sorted(s.signal_type for s in entry.signals)
        assert kinds.count("sha256") == 1 and kinds.count("md5") == 1
        assert 2 <= kinds.count("pdq") <= 8
        assert entry.status == "active"
        assert entry.public_id.startswith("be_") and "case-1" not in entry.public_id
        changes = session.scalars(select(BankChange)).all()
        assert [c.change for c in changes] == ["add"]


@pytest.mark.parametrize(
    ("signals", "error", "fragment"),
    [
        (SignalInput(pdq="0" * 64, quality=100), InvalidSignalError, "0 of 256 bits"),
        (SignalInput(pdq="f" * 64, quality=100), InvalidSignalError, "256 of 256 bits"),
        (SignalInput(pdq="ff" * 4 + "00" * 28, quality=100), InvalidSignalError, "32 of 256"),
        (SignalInput(pdq="zz" * 32, quality=100), InvalidSignalError, "only the characters"),
        (SignalInput(pdq="ab" * 31, quality=100), InvalidSignalError, "has 62"),
        (SignalInput(pdq="5a" * 32, quality=49), LowQualitySignalError, "below 50"),
        (SignalInput(pdq="5a" * 32), LowQualitySignalError, "needs its quality"),
        (SignalInput(sha256="00" * 32), InvalidSignalError, "all-zero"),
        (SignalInput(md5="xyz"), InvalidSignalError, "32 hexadecimal"),
        (SignalInput(), InvalidSignalError, "Nothing to register"),
        (SignalInput(pdq="5a" * 32, quality=90, dihedral=["5a" * 32]), InvalidSignalError, "all 8"),
    ],
)
def test_bad_and_hostile_signals_are_refused_and_nothing_is_stored(
    sessions: sessionmaker[Session], signals: SignalInput, error: type[ChorusError], fragment: str
) -> None:
    with pytest.raises(error, match=fragment), transaction(sessions) as session:
        bank.register(session, owner_id="case-1", provenance="caseworker", signals=signals)
    with transaction(sessions) as session:
        assert session.scalars(select(BankSignal)).all() == []


def test_unknown_provenance_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidSignalError, match="provenance"), transaction(sessions) as s:
        bank.register(s, owner_id="c", provenance="internet", signals=SignalInput(md5="1" * 32))


def test_withdraw_logs_a_deletion(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        entry = bank.register(
            session, owner_id="c", provenance="caseworker", signals=SignalInput(md5="a" * 32)
        )
        public_id = entry.public_id
    with transaction(sessions) as session:
        bank.withdraw(session, public_id, "survivor asked")
    with transaction(sessions) as session:
        assert bank.get_entry(session, public_id).status == "withdrawn"
        assert [c.change for c in session.scalars(select(BankChange).order_by(BankChange.seq))] == [
            "add",
            "delete",
        ]
        stats = bank.stats(session)
        assert stats["entries"] == {"withdrawn": 1}
    with pytest.raises(BankEntryNotFoundError), transaction(sessions) as session:
        bank.withdraw(session, "be_nope")
