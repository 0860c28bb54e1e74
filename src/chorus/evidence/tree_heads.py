"""Signed tree heads: the ledger's size and root at a moment, signed with Ed25519.

A tree head is what gets published or handed over: anyone holding one can later check,
with a consistency proof, that the ledger only grew, and with inclusion proofs, that an
entry is in it. The signing key's id and public key are kept with each head, so heads
signed before a key rotation still verify.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.config import Settings
from chorus.evidence import ledger
from chorus.evidence.keys import signing_key
from chorus.evidence.models import LedgerTreeHead
from chorus.evidence.offline.proofs import canonical_json
from chorus.evidence.tags import EventTag
from chorus.store.base import utcnow

LOG_NAME = "chorus-evidence-ledger"


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    key_id: str
    public_key: bytes
    body: str
    signature: bytes

    @property
    def timestamp(self) -> str:
        value: str = json.loads(self.body)["timestamp"]
        return value

    def to_json(self) -> dict[str, Any]:
        """The form bundles carry: the signed body verbatim, signature and key in base64."""
        return {
            "body": self.body,
            "signature": base64.b64encode(self.signature).decode(),
            "public_key": base64.b64encode(self.public_key).decode(),
            "key_id": self.key_id,
        }


def _from_row(row: LedgerTreeHead) -> TreeHead:
    return TreeHead(
        row.tree_size, bytes(row.root_hash), row.key_id, bytes(row.public_key), row.body,
        bytes(row.signature),
    )  # fmt: skip


def latest(session: Session) -> TreeHead | None:
    row = session.scalars(
        select(LedgerTreeHead).order_by(LedgerTreeHead.id.desc()).limit(1)
    ).first()
    return _from_row(row) if row else None


def all_heads(session: Session) -> list[TreeHead]:
    rows = session.scalars(select(LedgerTreeHead).order_by(LedgerTreeHead.id))
    return [_from_row(row) for row in rows]


def sign(session: Session, settings: Settings) -> TreeHead:
    """Sign the ledger's current head (recording a key rotation first, if there was one)."""
    key = signing_key(settings)
    previous = latest(session)
    if previous is not None and previous.key_id != key.key_id:
        ledger.append(
            session,
            EventTag.SIGNING_KEY_ROTATED,
            "system:chorus",
            {"signing_key": [previous.key_id, key.key_id]},
        )
    size, root = ledger.head(session)
    body = canonical_json(
        {
            "v": 1,
            "log": LOG_NAME,
            "tree_size": size,
            "root_hash": root.hex(),
            "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
            "key_id": key.key_id,
        }
    )
    signature = key.sign(body)
    row = LedgerTreeHead(
        tree_size=size,
        root_hash=root,
        signed_at=utcnow(),
        key_id=key.key_id,
        public_key=key.public,
        body=body.decode(),
        signature=signature,
    )
    session.add(row)
    session.flush()
    return _from_row(row)


def sign_if_grown(session: Session, settings: Settings) -> TreeHead | None:
    """Sign a new tree head only if the ledger has grown since the last one."""
    previous = latest(session)
    size, _root = ledger.head(session)
    if previous is not None and previous.tree_size == size:
        return None
    return sign(session, settings)
