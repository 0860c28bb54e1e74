"""Bank service: register, withdraw, quarantine and count protected items.

Every state change writes a row to the change log (``bank_changes``), which the exchange
feed serves to partners and every process's in-memory index replays within a second.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.errors import BankEntryNotFoundError, InvalidSignalError, LowQualitySignalError
from chorus.evidence import ledger
from chorus.evidence.tags import EventTag
from chorus.fingerprint import local as local_features
from chorus.fingerprint import robust
from chorus.fingerprint.pdq import DIHEDRAL_NAMES
from chorus.matching import local_seal
from chorus.matching.local_seal import DataKeys
from chorus.matching.models import BankChange, BankEntry, BankLocalFeatures, BankSignal
from chorus.matching.signals import (
    PDQ_MIN_QUALITY,
    LocalSignal,
    PdqSignal,
    RobustSignal,
    normalize,
)
from chorus.store.base import utcnow

Provenance = Literal["survivor_device", "caseworker", "exchange_import"]
PROVENANCES: Final = ("survivor_device", "caseworker", "exchange_import")
ACTIVE, WITHDRAWN, QUARANTINED = "active", "withdrawn", "quarantined"
#: A photo banks about 19 robust codes (robust.bank_codes; records made before version 3
#: of the codes carried about 23, half-frame codes included); far more is not a real record.
MAX_ROBUST_CODES: Final = 64


@dataclass(frozen=True)
class SignalInput:
    """What a caller registers: any of a PDQ hash (with its variants) and file digests;
    with PDQ, the robust codes and local features too."""

    pdq: str | None = None
    quality: int | None = None
    dihedral: Sequence[str] = ()
    sha256: str | None = None
    md5: str | None = None
    #: The robust signal's bank codes as (variant name, 64-hex code) pairs.
    robust: Sequence[tuple[str, str]] = ()
    #: The local signal's bank features, as the base64 text of a record's ``local.bank``.
    local: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, object]) -> SignalInput:
        """From a `chorus hash` record (or any mapping with the same field names)."""
        quality = record.get("quality")
        dihedral = record.get("dihedral") or ()
        if not isinstance(dihedral, list | tuple):
            raise InvalidSignalError("'dihedral' must be a list of PDQ hashes.")
        return cls(
            pdq=_opt_str(record.get("pdq")),
            quality=int(quality) if isinstance(quality, int | str) else None,
            dihedral=[str(v) for v in dihedral],
            sha256=_opt_str(record.get("sha256")),
            md5=_opt_str(record.get("md5")),
            robust=_robust_bank_codes(record.get("robust")),
            local=_local_bank_features(record.get("local")),
        )


def _robust_bank_codes(value: object) -> list[tuple[str, str]]:
    """The bank codes of a record's ``robust`` field (absent or null: none)."""
    if value is None:
        return []
    codes = value.get("bank") if isinstance(value, dict) else None
    if not isinstance(codes, list) or not all(
        isinstance(c, list | tuple) and len(c) == 2 for c in codes
    ):
        raise InvalidSignalError(
            "'robust' must be the object `chorus hash` writes, with 'bank' as a list of "
            "[variant, code] pairs."
        )
    return [(str(name), str(code)) for name, code in codes]


def _local_bank_features(value: object) -> str | None:
    """The bank features of a record's ``local`` field (absent, null or none found: None)."""
    if value is None:
        return None
    features = value.get("bank") if isinstance(value, dict) else 0
    if features is not None and not isinstance(features, str):
        raise InvalidSignalError(
            "'local' must be the object `chorus hash` writes, with 'bank' as base64 text."
        )
    return features


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def new_public_id() -> str:
    """An opaque, unguessable bank entry id: all a partner ever sees of an item."""
    return "be_" + secrets.token_hex(12)


def _validated_signals(data: SignalInput) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    if data.pdq is not None:
        if data.quality is None:
            raise LowQualitySignalError(
                "A PDQ hash needs its quality (0-100) to be banked; hash the photo again "
                "with `chorus hash` to get it."
            )
        if data.quality < PDQ_MIN_QUALITY:
            raise LowQualitySignalError(
                f"This photo's fingerprint quality is {data.quality}, below {PDQ_MIN_QUALITY}: "
                "the photo is too plain to be recognised reliably, so it was not added."
            )
        original = PdqSignal.normalize(data.pdq)
        out.append(("pdq", original, "original"))
        variants = list(data.dihedral)
        if variants:
            if len(variants) != len(DIHEDRAL_NAMES):
                raise InvalidSignalError("'dihedral' must hold all 8 PDQ variants.")
            if PdqSignal.normalize(variants[0]) != original:
                raise InvalidSignalError("The first dihedral variant must equal 'pdq'.")
            seen = {original}
            for name, value in zip(DIHEDRAL_NAMES[1:], variants[1:], strict=True):
                hashed = PdqSignal.normalize(value)
                if hashed not in seen:  # symmetric photos repeat variants
                    seen.add(hashed)
                    out.append(("pdq", hashed, name))
    out += _validated_robust(data)
    for kind, digest in (("sha256", data.sha256), ("md5", data.md5)):
        if digest is not None:
            out.append((kind, normalize(kind, digest)[1], None))
    if not out:
        raise InvalidSignalError("Nothing to register: give a PDQ hash, a SHA-256 or an MD5.")
    return out


def _validated_robust(data: SignalInput) -> list[tuple[str, str, str | None]]:
    if not data.robust:
        return []
    if data.pdq is None:
        raise InvalidSignalError(
            "Robust codes are banked only with the photo's PDQ hash and quality, which "
            "decide whether the photo has enough detail to match reliably."
        )
    if len(data.robust) > MAX_ROBUST_CODES:
        raise InvalidSignalError(
            f"At most {MAX_ROBUST_CODES} robust codes are banked per photo; "
            f"this has {len(data.robust)}."
        )
    out: list[tuple[str, str, str | None]] = []
    seen: set[str] = set()
    for name, code in data.robust:
        if not name or len(name) > 16:
            raise InvalidSignalError("A robust code's variant name is 1-16 characters.")
        value = RobustSignal.normalize(code)
        if name in robust.HALVES:
            # A record made before version 3 of the codes: its half-frame codes are not
            # kept, since they add to what a photo can be rebuilt from (migration 0020).
            continue
        if value not in seen:
            seen.add(value)
            out.append(("robust", value, name))
    return out


def _validated_local(data: SignalInput) -> local_features.LocalFeatures | None:
    if data.local is None:
        return None
    if data.pdq is None:
        raise InvalidSignalError(
            "Local features are banked only with the photo's PDQ hash and quality, which "
            "decide whether the photo has enough detail to match reliably."
        )
    features = LocalSignal.parse(data.local)
    if len(features) > local_features.BANK_POINTS:
        raise InvalidSignalError(
            f"A banked photo has at most {local_features.BANK_POINTS} corners in its local "
            f"features; these have {len(features)}. Make them again with `chorus hash`."
        )
    return features


def register(
    session: Session,
    *,
    owner_id: str,
    provenance: str,
    signals: SignalInput,
    source_ref: str | None = None,
    actor: str = "system:chorus",
    keys: DataKeys | None = None,
) -> BankEntry:
    """Add one protected item. It is matchable as soon as the transaction commits.

    Local features are stored sealed with a data key of ``keys`` (the evidence key ring,
    :mod:`chorus.matching.local_seal`); registering them without it is refused.
    The registration is recorded in the evidence ledger by ids only (the case and the
    opaque bank id): no fingerprint value ever enters the ledger."""
    if provenance not in PROVENANCES:
        raise InvalidSignalError(f"Unknown provenance {provenance!r}; use one of {PROVENANCES}.")
    if not owner_id or len(owner_id) > 64:
        raise InvalidSignalError("An owner id (1-64 characters) is required.")
    rows = _validated_signals(signals)
    features = _validated_local(signals)
    key = local_seal.key_for_writing(keys, session) if features is not None else None
    entry = BankEntry(
        public_id=new_public_id(),
        owner_id=owner_id,
        provenance=provenance,
        status=ACTIVE,
        quality=signals.quality if signals.pdq is not None else None,
        source_ref=source_ref,
    )
    entry.signals = [BankSignal(signal_type=t, value=v, variant=n) for t, v, n in rows]
    session.add(entry)
    session.flush()
    if features is not None and key is not None:  # sealed for this entry's id
        sealed = local_seal.seal(key, entry.id, features.to_bytes())
        entry.local = BankLocalFeatures(features=sealed, sealed=True)
        session.flush()
    session.add(BankChange(entry_id=entry.id, change="add"))
    ledger.append(
        session,
        EventTag.FINGERPRINTS_REGISTERED,
        actor,
        {"case": owner_id, "bank_entry": entry.public_id},
    )
    return entry


def get_entry(session: Session, public_id: str) -> BankEntry:
    entry = session.scalar(select(BankEntry).where(BankEntry.public_id == public_id))
    if entry is None:
        raise BankEntryNotFoundError(f"No bank entry has the id {public_id!r}.")
    return entry


def _set_status(session: Session, entry: BankEntry, status: str, reason: str | None) -> None:
    was_active = entry.status == ACTIVE
    entry.status = status
    entry.status_reason = reason
    entry.updated_at = utcnow()
    if was_active and status != ACTIVE:
        session.add(BankChange(entry_id=entry.id, change="delete"))
    elif not was_active and status == ACTIVE:
        session.add(BankChange(entry_id=entry.id, change="add"))
    session.flush()


def withdraw(
    session: Session, public_id: str, reason: str | None = None, actor: str = "system:chorus"
) -> BankEntry:
    """Take an item out of matching and out of partners' copies (a deletion in the feed)."""
    entry = get_entry(session, public_id)
    if entry.status != WITHDRAWN:
        _set_status(session, entry, WITHDRAWN, reason or "withdrawn")
        ledger.append(
            session,
            EventTag.FINGERPRINTS_WITHDRAWN,
            actor,
            {"case": entry.owner_id, "bank_entry": entry.public_id},
        )
    return entry


def withdraw_owner(
    session: Session, owner_id: str, reason: str, actor: str = "system:chorus"
) -> int:
    """Withdraw every item of one owner (a survivor taking their fingerprints back)."""
    ids = session.scalars(
        select(BankEntry.public_id).where(
            BankEntry.owner_id == owner_id, BankEntry.status != WITHDRAWN
        )
    ).all()
    for public_id in ids:
        withdraw(session, public_id, reason, actor)
    return len(ids)


def quarantine(session: Session, entry: BankEntry, reason: str) -> None:
    """Suspend an item pending review (a suspected false submission)."""
    if entry.status == ACTIVE:
        _set_status(session, entry, QUARANTINED, reason)


def release(session: Session, public_id: str) -> BankEntry:
    """Return a quarantined item to matching after review."""
    entry = get_entry(session, public_id)
    if entry.status != QUARANTINED:
        raise BankEntryNotFoundError(f"Bank entry {public_id!r} is not in quarantine.")
    _set_status(session, entry, ACTIVE, None)
    return entry


def stats(session: Session) -> dict[str, object]:
    by_status = dict(
        session.execute(select(BankEntry.status, func.count()).group_by(BankEntry.status)).all()
    )
    by_type = dict(
        session.execute(
            select(BankSignal.signal_type, func.count())
            .join(BankEntry)
            .where(BankEntry.status == ACTIVE)
            .group_by(BankSignal.signal_type)
        ).all()
    )
    with_local = session.scalar(
        select(func.count())
        .select_from(BankLocalFeatures)
        .join(BankEntry)
        .where(BankEntry.status == ACTIVE)
    )
    if with_local:
        by_type["local"] = with_local
    return {
        "entries": {k: int(v) for k, v in by_status.items()},
        "active_signals": {k: int(v) for k, v in by_type.items()},
    }


def count_for_owner(session: Session, owner_id: str) -> int:
    """How many items of this owner (a case) are protected now."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(BankEntry)
            .where(BankEntry.owner_id == owner_id, BankEntry.status == ACTIVE)
        )
        or 0
    )
