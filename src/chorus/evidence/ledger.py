"""The evidence ledger: append events, read them back, prove them.

Each event is one canonical JSON body (who, what, when, about which subjects, the salted
digest of its payload, the hash of the entry before it). Its RFC 9162 leaf hash is a leaf
of the Merkle tree and the next entry's ``prev``, so the entries form a hash chain and a
Merkle tree at once. The payload itself never enters the ledger: it is kept encrypted with
its scope's data key beside it, and destroying that key leaves the ledger intact.

Appends take the ledger's head row lock inside the caller's transaction, so an event is
recorded exactly when the change it describes is committed, and sequence numbers have no
gaps on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from chorus.errors import EvidenceError, EvidenceShreddedError
from chorus.evidence import merkle
from chorus.evidence.keys import KeyRing, seal, unseal
from chorus.evidence.models import (
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerPayload,
    LedgerSubject,
)
from chorus.evidence.offline.proofs import canonical_json, leaf_hash, payload_digest, sha256
from chorus.evidence.tags import EventTag
from chorus.store.base import utcnow

SYSTEM_SCOPE = "system"
_KIND = re.compile(r"^[a-z][a-z_]{0,23}$")
_LOOKS_LIKE_A_HASH = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$")
_CHUNK = 500


@dataclass(frozen=True)
class Event:
    """Something that happened, as a caller describes it."""

    action: EventTag
    actor: str
    subjects: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    payload: Mapping[str, Any] | None = None
    scope: str = SYSTEM_SCOPE


@dataclass(frozen=True)
class Recorded:
    seq: int
    at: datetime
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    body: str
    leaf_hash: bytes

    @property
    def fields(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def _subjects(subjects: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, refs in subjects.items():
        values = [refs] if isinstance(refs, str) else list(refs)
        if not _KIND.match(kind):
            raise EvidenceError(f"Ledger subject kind {kind!r} is not a short lowercase name.")
        for ref in values:
            if not ref or len(ref) > 80:
                raise EvidenceError(f"Ledger subject {kind} must be 1-80 characters.")
            if _LOOKS_LIKE_A_HASH.match(ref):
                # Hashes of images (or of anything a survivor owns) never enter the ledger.
                raise EvidenceError(
                    f"Ledger subject {kind} looks like a hash; use the opaque id instead."
                )
        out[kind] = sorted(set(values))
    return out


# Built once: appends are hot, and building statements costs more than running them.
_HEAD = cast(Table, LedgerHead.__table__)
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(size=_HEAD.c.size)
_READ_HEAD = select(_HEAD.c.size, _HEAD.c.last_leaf, _HEAD.c.frontier).where(_HEAD.c.id == 1)
_WRITE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(
        size=bindparam("new_size"),
        last_leaf=bindparam("new_last"),
        frontier=bindparam("new_frontier"),
        root=bindparam("new_root"),
    )
)
_INSERTS = {
    name: insert(cast(Table, model.__table__))
    for name, model in (
        ("entries", LedgerEntry),
        ("subjects", LedgerSubject),
        ("nodes", LedgerNode),
        ("payloads", LedgerPayload),
    )
}


def _lock_head(connection: Connection) -> tuple[int, bytes, bytes]:
    # A no-op UPDATE first: it takes the row lock on PostgreSQL and the write lock on SQLite
    # before anything is read, so two appenders can never read the same head.
    connection.execute(_LOCK_HEAD)
    size, last_leaf, frontier = connection.execute(_READ_HEAD).one()
    return int(size), bytes(last_leaf), bytes(frontier)


def append_many(
    session: Session, events: Iterable[Event], keyring: KeyRing | None = None
) -> list[Recorded]:
    """Append events in order, in the caller's transaction; return their sequence numbers."""
    events = list(events)
    if not events:
        return []
    connection = session.connection()
    size, prev, frontier_bytes = _lock_head(connection)
    frontier = merkle.Frontier.from_bytes(size, frontier_bytes)
    entries: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    data_keys: dict[str, bytes] = {}
    recorded = []
    for event in events:
        seq, at = frontier.size, utcnow()
        action = EventTag(event.action)
        digest = None
        if event.payload is not None:
            if keyring is None:
                raise EvidenceError("An event with a payload needs the evidence keys.")
            salt = secrets.token_bytes(16)
            digest = payload_digest(salt, event.payload)
            if event.scope not in data_keys:
                data_keys[event.scope] = keyring.data_key(session, event.scope)
            plain = canonical_json({"salt": salt.hex(), "payload": event.payload})
            nonce, sealed = seal(
                data_keys[event.scope], plain, f"ledger-payload:{event.scope}:{seq}"
            )
            payloads.append(
                {"seq": seq, "scope": event.scope, "nonce": nonce, "ciphertext": sealed}
            )
        about = _subjects(event.subjects)
        body = canonical_json(
            {
                "v": 1,
                "seq": seq,
                "at": at.isoformat().replace("+00:00", "Z"),
                "actor": event.actor,
                "action": action.value,
                "subjects": about,
                "payload_sha256": digest,
                "prev": prev.hex(),
            }
        )
        leaf = leaf_hash(body)
        entries.append(
            {
                "seq": seq,
                "at": at,
                "actor": event.actor,
                "action": action.value,
                "body": body.decode(),
                "leaf_hash": leaf,
            }
        )
        subjects.extend(
            {"kind": kind, "ref": ref, "seq": seq} for kind, refs in about.items() for ref in refs
        )
        nodes.extend({"key": key, "hash": value} for key, value in frontier.append(leaf))
        recorded.append(Recorded(seq, at, leaf))
        prev = leaf
    # Core inserts on the session's connection: the ORM's bulk path costs more than the rest
    # of an append put together, and these rows are never loaded back as objects here.
    connection.execute(_INSERTS["entries"], entries)
    for name, rows in (("subjects", subjects), ("nodes", nodes), ("payloads", payloads)):
        if rows:
            connection.execute(_INSERTS[name], rows)
    connection.execute(
        _WRITE_HEAD,
        {
            "new_size": frontier.size,
            "new_last": prev,
            "new_frontier": frontier.to_bytes(),
            "new_root": frontier.root(),
        },
    )
    return recorded


def append(
    session: Session,
    action: EventTag,
    actor: str,
    subjects: Mapping[str, str | Sequence[str]] | None = None,
    payload: Mapping[str, Any] | None = None,
    *,
    scope: str = SYSTEM_SCOPE,
    keyring: KeyRing | None = None,
) -> Recorded:
    """Append one event (see :class:`Event`) in the caller's transaction."""
    event = Event(action, actor, subjects or {}, payload, scope)
    return append_many(session, [event], keyring)[0]


def head(session: Session) -> tuple[int, bytes]:
    """(size, root hash) of the ledger as committed now."""
    size, root = session.execute(
        select(LedgerHead.size, LedgerHead.root).where(LedgerHead.id == 1)
    ).one()
    return int(size), bytes(root)


def entries(session: Session, seqs: Iterable[int]) -> list[StoredEntry]:
    wanted = sorted(set(seqs))
    out: list[StoredEntry] = []
    for i in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.body, LedgerEntry.leaf_hash)
            .where(LedgerEntry.seq.in_(wanted[i : i + _CHUNK]))
            .order_by(LedgerEntry.seq)
        )
        out.extend(StoredEntry(int(s), b, bytes(h)) for s, b, h in rows)
    return out


def seqs_about(session: Session, kind: str, refs: Iterable[str]) -> set[int]:
    """Sequence numbers of every entry about any of ``refs`` (e.g. kind ``case``)."""
    refs = list(refs)
    found: set[int] = set()
    for i in range(0, len(refs), _CHUNK):
        found.update(
            session.scalars(
                select(LedgerSubject.seq).where(
                    LedgerSubject.kind == kind, LedgerSubject.ref.in_(refs[i : i + _CHUNK])
                )
            )
        )
    return found


def payloads(
    session: Session, keyring: KeyRing, seqs: Iterable[int]
) -> dict[int, dict[str, Any] | None]:
    """Decrypted ``{"salt", "payload"}`` per entry; None where the scope was shredded."""
    wanted = sorted(set(seqs))
    out: dict[int, dict[str, Any] | None] = {}
    for i in range(0, len(wanted), _CHUNK):
        rows = session.scalars(
            select(LedgerPayload).where(LedgerPayload.seq.in_(wanted[i : i + _CHUNK]))
        )
        for row in rows:
            try:
                key = keyring.data_key(session, row.scope, create=False)
            except EvidenceShreddedError:
                out[row.seq] = None
                continue
            plain = unseal(key, row.nonce, row.ciphertext, f"ledger-payload:{row.scope}:{row.seq}")
            out[row.seq] = json.loads(plain)
    return out


def _fetch(session: Session) -> merkle.Fetch:
    def fetch(needed: set[merkle.Piece]) -> dict[merkle.Piece, bytes]:
        out: dict[merkle.Piece, bytes] = {}
        leaves = sorted(index for height, index in needed if height == 0)
        keys = {merkle.node_key(h, i): (h, i) for h, i in needed if h > 0}
        for entry in entries(session, leaves):
            out[(0, entry.seq)] = entry.leaf_hash
        key_list = sorted(keys)
        for i in range(0, len(key_list), _CHUNK):
            for key, value in session.execute(
                select(LedgerNode.key, LedgerNode.hash).where(
                    LedgerNode.key.in_(key_list[i : i + _CHUNK])
                )
            ):
                out[keys[int(key)]] = bytes(value)
        missing = needed - out.keys()
        if missing:
            raise EvidenceError(
                f"The ledger is missing {len(missing)} stored tree node(s); run "
                "`chorus evidence verify-ledger`."
            )
        return out

    return fetch


def _check_size(seq: int, tree_size: int, current: int) -> None:
    if not 0 <= seq < tree_size <= current:
        raise EvidenceError(
            f"Entry {seq} is not in a tree of {tree_size} entries (the ledger has {current})."
        )


def inclusion_proofs(
    session: Session, seqs: Iterable[int], tree_size: int
) -> dict[int, list[bytes]]:
    """RFC 9162 inclusion proofs of many entries in the tree of ``tree_size`` entries."""
    current, _root = head(session)
    plan = {}
    for seq in seqs:
        _check_size(seq, tree_size, current)
        plan[seq] = merkle.inclusion_ranges(seq, tree_size)
    flat = [r for ranges in plan.values() for r in ranges]
    hashes = iter(merkle.range_hashes(flat, _fetch(session)))
    return {seq: [next(hashes) for _ in ranges] for seq, ranges in plan.items()}


def inclusion_proof(session: Session, seq: int, tree_size: int) -> list[bytes]:
    return inclusion_proofs(session, [seq], tree_size)[seq]


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof between two tree sizes of this ledger."""
    current, _root = head(session)
    if not 0 <= old_size <= new_size <= current:
        raise EvidenceError(f"No consistency proof from {old_size} to {new_size} entries.")
    return merkle.range_hashes(merkle.consistency_ranges(old_size, new_size), _fetch(session))


def root_at(session: Session, tree_size: int) -> bytes:
    """The Merkle root of the first ``tree_size`` entries (any past size)."""
    if tree_size == 0:
        return sha256(b"")
    return merkle.range_hashes([(0, tree_size)], _fetch(session))[0]
