"""Words about a case (messages, reasons for closing) sealed with the case's data key.

The same key protects the case's captures and contact details, so deleting the case's data
(crypto-shredding) makes these unreadable too, while the rows and the ledger's digests
remain. Each text is bound to what it is (``purpose``) so it cannot be moved elsewhere.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from chorus.evidence import captures, keys
from chorus.evidence.keys import KeyRing


def _context(reference: str, purpose: str) -> str:
    return f"case-text:{reference}:{purpose}"


def seal(session: Session, keyring: KeyRing, reference: str, purpose: str, text: str) -> bytes:
    key = keyring.data_key(session, captures.case_scope(reference))
    nonce, sealed = keys.seal(
        key, json.dumps({"text": text}).encode(), _context(reference, purpose)
    )
    return nonce + sealed


def unseal(session: Session, keyring: KeyRing, reference: str, purpose: str, blob: bytes) -> str:
    """The text; EvidenceShreddedError when the case's data was deleted."""
    key = keyring.data_key(session, captures.case_scope(reference), create=False)
    raw = bytes(blob)
    return str(
        json.loads(keys.unseal(key, raw[:12], raw[12:], _context(reference, purpose)))["text"]
    )
