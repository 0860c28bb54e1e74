"""Reports being written on the web form, saved so a survivor can stop and come back.

A draft is found by the SHA-256 of its resume code and sealed (AES-256-GCM) with a key
derived from the code (HKDF-SHA256). The server never stores the code, so a saved draft
is readable only by whoever holds it. Drafts expire; nothing is filed until the last step.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chorus.cases.models import IntakeDraft
from chorus.errors import CasesError
from chorus.store.base import utcnow

# As in case references: no 0/O, 1/I/L, 5/S, 2/Z, so a code read aloud is not misheard.
_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
_GROUPS = 4  # 16 characters of 27: about 76 bits
MAX_DRAFT_BYTES = 200_000
NOT_FOUND = (
    "We could not find a saved report with that code. Please check it; saved reports are "
    "kept for 30 days."
)


def new_code() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(_GROUPS))


def _normalise(code: str) -> str:
    compact = "".join(c for c in code.upper() if c.isalnum())
    if len(compact) != 4 * _GROUPS or any(c not in _ALPHABET for c in compact):
        raise CasesError(NOT_FOUND)
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _lookup(code: str) -> str:
    return hashlib.sha256(b"chorus-intake-draft:" + code.encode()).hexdigest()


def _key(code: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"chorus-intake-draft", info=b"v1")
    return hkdf.derive(code.encode())


@dataclass(frozen=True)
class Draft:
    code: str
    step: int
    values: dict[str, Any]


def save(session: Session, code: str | None, step: int, values: dict[str, Any],
         *, ttl_s: int) -> Draft:  # fmt: skip
    """Save (or start, when ``code`` is None) a draft; returns it with its resume code."""
    code = _normalise(code) if code else new_code()
    plaintext = json.dumps(values, separators=(",", ":")).encode()
    if len(plaintext) > MAX_DRAFT_BYTES:
        raise CasesError("This report is too long to save. Please shorten the longest answers.")
    lookup = _lookup(code)
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(_key(code)).encrypt(nonce, plaintext, lookup.encode())
    now = utcnow()
    session.execute(delete(IntakeDraft).where(IntakeDraft.expires_at < now))
    row = session.scalar(select(IntakeDraft).where(IntakeDraft.lookup == lookup))
    if row is None:
        row = IntakeDraft(lookup=lookup, sealed=sealed, step=step)
        session.add(row)
    row.sealed, row.step, row.updated_at = sealed, step, now
    row.expires_at = now + timedelta(seconds=ttl_s)
    session.flush()
    return Draft(code, step, values)


def load(session: Session, code: str) -> Draft:
    code = _normalise(code)
    lookup = _lookup(code)
    row = session.scalar(select(IntakeDraft).where(IntakeDraft.lookup == lookup))
    if row is None or row.expires_at < utcnow():
        raise CasesError(NOT_FOUND)
    blob = bytes(row.sealed)
    try:
        values = json.loads(AESGCM(_key(code)).decrypt(blob[:12], blob[12:], lookup.encode()))
    except (InvalidTag, ValueError) as exc:
        raise CasesError(NOT_FOUND) from exc
    return Draft(code, row.step, values)


def discard(session: Session, code: str) -> None:
    session.execute(delete(IntakeDraft).where(IntakeDraft.lookup == _lookup(_normalise(code))))
