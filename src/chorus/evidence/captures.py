"""Evidence captures: stored encrypted, opened by investigators only, every view recorded.

A capture is either a WARC file made by the monitor (the page and its media as served) or
a screenshot that a survivor or caseworker chose to add. The bytes are kept exactly as
received, encrypted with the case's data key; their SHA-256 goes into the ledger event
(inside the salted payload), so an exported original can be tied to the moment it was
stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chorus import __version__
from chorus.errors import (
    CaptureNotFoundError,
    CaptureTooLargeError,
    EvidenceError,
    EvidenceShreddedError,
)
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing, seal, unseal
from chorus.evidence.models import Capture, LedgerPayload
from chorus.evidence.tags import EventTag
from chorus.evidence.warc import read_responses
from chorus.security.policy import Actor, Permission, require

KINDS = ("warc", "screenshot")
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"RIFF": "image/webp",
}


def case_scope(case_ref: str) -> str:
    """The key scope of a case: everything of one case is shredded together."""
    return f"case:{case_ref}"


@dataclass(frozen=True)
class CaptureInfo:
    public_id: str
    case_ref: str
    kind: str
    media_type: str
    filename: str
    source_url: str | None
    sha256: str
    size: int
    captured_at: datetime
    chorus_version: str
    added_by: str
    ledger_seq: int
    available: bool

    @classmethod
    def of(cls, row: Capture) -> CaptureInfo:
        return cls(
            public_id=row.public_id,
            case_ref=row.scope.removeprefix("case:"),
            kind=row.kind,
            media_type=row.media_type,
            filename=row.filename,
            source_url=row.source_url,
            sha256=row.sha256,
            size=row.size,
            captured_at=row.captured_at,
            chorus_version=row.chorus_version,
            added_by=row.added_by,
            ledger_seq=row.ledger_seq,
            available=row.ciphertext is not None,
        )


def _media_type(kind: str, data: bytes) -> str:
    if kind == "warc":
        read_responses(data)  # refuses anything that is not a readable WARC
        return "application/warc"
    for magic, media_type in _IMAGE_MAGIC.items():
        if data.startswith(magic) and (magic != b"RIFF" or data[8:12] == b"WEBP"):
            return media_type
    raise EvidenceError("A screenshot must be a PNG, JPEG or WebP image.")


def store(
    session: Session,
    keyring: KeyRing,
    actor: Actor,
    *,
    case_ref: str,
    kind: str,
    data: bytes,
    filename: str,
    source_url: str | None = None,
    captured_at: datetime | None = None,
    subjects: dict[str, str] | None = None,
    max_bytes: int = 64 * 1024 * 1024,
) -> CaptureInfo:
    """Store a capture for a case, encrypted; record it in the ledger."""
    require(actor, Permission.ADD_CAPTURE)
    if kind not in KINDS:
        raise EvidenceError(f"A capture is one of {', '.join(KINDS)}, not {kind!r}.")
    if not data:
        raise EvidenceError("The capture is empty.")
    if len(data) > max_bytes:
        raise CaptureTooLargeError(
            f"The capture is {len(data):,} bytes; the limit is {max_bytes:,} "
            "(CHORUS_EVIDENCE_MAX_CAPTURE_BYTES)."
        )
    media_type = _media_type(kind, data)
    public_id = f"CAP-{secrets.token_hex(8).upper()}"
    digest = hashlib.sha256(data).hexdigest()
    when = captured_at or datetime.now(UTC)
    name = filename.replace("/", "_").replace("\\", "_")[-200:] or f"{public_id}.bin"
    scope = case_scope(case_ref)
    recorded = ledger.append(
        session,
        EventTag.CAPTURE_STORED,
        actor.label,
        {"case": case_ref, "capture": public_id, **(subjects or {})},
        {
            "capture": public_id,
            "kind": kind,
            "media_type": media_type,
            "filename": name,
            "source_url": source_url,
            "sha256": digest,
            "size": len(data),
            "captured_at": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "chorus_version": __version__,
        },
        scope=scope,
        keyring=keyring,
    )
    nonce, sealed = seal(keyring.data_key(session, scope), data, f"capture:{scope}:{public_id}")
    row = Capture(
        public_id=public_id,
        scope=scope,
        kind=kind,
        media_type=media_type,
        filename=name,
        source_url=source_url,
        sha256=digest,
        size=len(data),
        captured_at=when,
        chorus_version=__version__,
        added_by=actor.label,
        ledger_seq=recorded.seq,
        nonce=nonce,
        ciphertext=sealed,
    )
    session.add(row)
    session.flush()
    return CaptureInfo.of(row)


def _row(session: Session, public_id: str) -> Capture:
    row = session.scalars(select(Capture).where(Capture.public_id == public_id)).first()
    if row is None:
        raise CaptureNotFoundError(f"No capture has the id {public_id}.")
    return row


def read(
    session: Session, keyring: KeyRing, actor: Actor, public_id: str, *, reason: str
) -> tuple[CaptureInfo, bytes]:
    """Open a capture (investigators only); the view is appended to the ledger first."""
    require(actor, Permission.VIEW_CAPTURE)
    if not reason.strip():
        raise EvidenceError("Say why the capture is being opened; the reason is recorded.")
    row = _row(session, public_id)
    key = keyring.data_key(session, row.scope, create=False)
    if row.ciphertext is None or row.nonce is None:
        raise EvidenceShreddedError(
            f"Capture {public_id} was deleted (at the survivor's request, or because it was "
            "found to show something else) and can no longer be read."
        )
    data = unseal(key, row.nonce, row.ciphertext, f"capture:{row.scope}:{row.public_id}")
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise EvidenceError(f"Capture {public_id} no longer matches the digest recorded for it.")
    ledger.append(
        session,
        EventTag.CAPTURE_VIEWED,
        actor.label,
        {"case": row.scope.removeprefix("case:"), "capture": public_id},
        {"reason": reason.strip()},
        scope=row.scope,
        keyring=keyring,
    )
    return CaptureInfo.of(row), data


def describe(session: Session, actor: Actor, public_id: str) -> CaptureInfo:
    """A capture's record (URL, time, size, SHA-256), never its content."""
    require(actor, Permission.LIST_CAPTURES)
    return CaptureInfo.of(_row(session, public_id))


def discard(
    session: Session, keyring: KeyRing, actor: Actor, public_id: str, *, reason: str
) -> CaptureInfo:
    """Drop one capture's ciphertext for good: it was found not to show the case's image.

    Used when a caseworker rejects a possible match: the copy captured is then someone
    else's photo, which Chorus has no reason to keep. The ledger keeps the record that it
    was stored (with its SHA-256) and this event with the reason; exports leave it out,
    as they do shredded captures. Already discarded or shredded: nothing changes.
    """
    require(actor, Permission.DISCARD_CAPTURE)
    if not reason.strip():
        raise EvidenceError("Say why the capture is being discarded; the reason is recorded.")
    row = _row(session, public_id)
    if row.ciphertext is not None:
        row.ciphertext, row.nonce = None, None
        ledger.append(
            session,
            EventTag.CAPTURE_DISCARDED,
            actor.label,
            {"case": row.scope.removeprefix("case:"), "capture": public_id},
            {"reason": reason.strip()},
            scope=row.scope,
            keyring=keyring,
        )
    session.flush()
    return CaptureInfo.of(row)


def for_cases(session: Session, case_refs: list[str]) -> list[CaptureInfo]:
    scopes = [case_scope(ref) for ref in case_refs]
    rows = session.scalars(
        select(Capture).where(Capture.scope.in_(scopes)).order_by(Capture.captured_at, Capture.id)
    )
    return [CaptureInfo.of(row) for row in rows]


def shred_case(session: Session, keyring: KeyRing, actor: Actor, case_ref: str) -> dict[str, int]:
    """Crypto-shred a case: destroy its data key and drop the ciphertexts it protected.

    The ledger keeps its entries (who did what, when, and salted digests), so it still
    verifies; nothing of the case's captures or event payloads can be read any more.
    """
    require(actor, Permission.SHRED_CASE_DATA)
    scope = case_scope(case_ref)
    destroyed = keyring.destroy(session, scope)
    captures = session.execute(  # type: ignore[attr-defined]
        update(Capture)
        .where(Capture.scope == scope, Capture.ciphertext.is_not(None))
        .values(ciphertext=None, nonce=None)
    ).rowcount
    payloads = session.query(LedgerPayload).filter(LedgerPayload.scope == scope).delete()
    ledger.append(session, EventTag.CASE_DATA_DELETED, actor.label, {"case": case_ref})
    return {"keys": int(destroyed), "captures": int(captures or 0), "payloads": int(payloads)}
