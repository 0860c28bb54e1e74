"""Banked local features are kept sealed at rest.

The packed features of a banked photo (``LocalFeatures.to_bytes()``) say enough about the
photo to rebuild a coarse picture of it (docs/robust-matching.md, "Privacy of the local
signal"), and nothing but the server's in-memory index needs them. So the row in
``bank_local_features`` holds them sealed: AES-256-GCM with a random 12-byte nonce per row
(stored in front of the ciphertext) and the row's entry id as associated data
(``local:{entry_id}``), so a row copied onto another entry does not open. The key is the
data key of scope :data:`SCOPE`, wrapped by the evidence master key
(``chorus.evidence.keys.KeyRing``: rotation by previous master keys and ``rewrap_all``),
never stored in the database in the clear.

Rows written before sealing (migration 0019, ``sealed`` false) are still read as they are,
and are sealed by :func:`seal_plaintext_rows` (``chorus bank seal-local``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import ChorusError, LocalFeaturesSealError
from chorus.matching.models import BankLocalFeatures

log = logging.getLogger(__name__)

SCOPE: Final = "bank-local-features"
_NONCE: Final = 12
_BATCH: Final = 1000


class DataKeys(Protocol):
    """What matching needs of the evidence key ring (``chorus.evidence.keys.KeyRing``)."""

    def data_key(self, session: Session, scope: str, *, create: bool = True) -> bytes: ...


def _context(entry_id: int) -> bytes:
    return f"local:{entry_id}".encode()


def seal(key: bytes, entry_id: int, packed: bytes) -> bytes:
    """``packed`` (an entry's features) sealed for the row of ``entry_id``: nonce + ciphertext."""
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, packed, _context(entry_id))


def open_sealed(key: bytes, entry_id: int, sealed: bytes) -> bytes:
    """The packed features of a sealed row, if it is the row of ``entry_id`` and unaltered."""
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _context(entry_id))
    except (InvalidTag, ValueError) as exc:
        raise LocalFeaturesSealError(
            f"The local features of bank entry {entry_id} do not open: the row was altered "
            "or moved from another entry, or sealed with another data key. The entry is "
            "still matched by its other signals; to restore them, withdraw it and bank the "
            "photo again."
        ) from exc


def key_for_writing(keys: DataKeys | None, session: Session) -> bytes:
    """The data key that seals new rows (made and stored wrapped on first use)."""
    if keys is None:
        raise LocalFeaturesSealError(
            "Local features are stored sealed, and this was called without the key ring; "
            "pass the evidence key ring (chorus.evidence.keys.KeyRing)."
        )
    return keys.data_key(session, SCOPE)


def key_for_reading(keys: DataKeys | None, session: Session) -> bytes:
    """The data key that opens sealed rows; a :class:`LocalFeaturesSealError` if there is
    none to be had (no key ring, the wrapping master key not configured, none stored)."""
    if keys is None:
        raise LocalFeaturesSealError(
            "Sealed local features cannot be read without the evidence key ring."
        )
    try:
        return keys.data_key(session, SCOPE, create=False)
    except LocalFeaturesSealError:
        raise
    except ChorusError as exc:  # the key ring's own (EvidenceKeyError, EvidenceShreddedError)
        raise LocalFeaturesSealError(
            f"The key of the banked local features is not available: {exc.message}"
        ) from exc


def seal_plaintext_rows(session: Session, keys: DataKeys) -> int:
    """Seal every row stored before sealing (``sealed`` false), :data:`_BATCH` at a time
    (in the caller's transaction). Returns how many."""
    count = 0
    key: bytes | None = None
    while True:
        rows = session.scalars(
            select(BankLocalFeatures)
            .where(BankLocalFeatures.sealed.is_(False))
            .order_by(BankLocalFeatures.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        key = key or key_for_writing(keys, session)
        for row in rows:
            row.features = seal(key, row.entry_id, bytes(row.features))
            row.sealed = True
        session.flush()
        session.expunge_all()  # a big bank is not held in memory
        count += len(rows)
    if count:
        log.info("Sealed the local features of %d bank entries.", count)
    return count
