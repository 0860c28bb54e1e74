"""``verify-ledger``: recompute the whole live ledger from its entries and compare.

Every entry's body, leaf hash and chain link; every stored Merkle subtree; the subject
index; the head row; and every signed tree head (signature, trusted key, root at its
size). Runs in bounded memory, streaming the entries in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.config import Settings
from chorus.evidence import merkle
from chorus.evidence.keys import trusted_public_keys
from chorus.evidence.models import LedgerEntry, LedgerHead, LedgerNode, LedgerSubject
from chorus.evidence.offline import ed25519
from chorus.evidence.offline.proofs import ZERO_HASH, leaf_hash
from chorus.evidence.tree_heads import all_heads

_BATCH = 2000
_MAX_LISTED = 100


@dataclass
class LedgerReport:
    entries: int = 0
    tree_heads: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < _MAX_LISTED:
            self.problems.append(text)
        else:
            self.more_problems += 1


def _check_batch(
    session: Session,
    report: LedgerReport,
    batch: list[tuple[int, dict[str, list[str]]]],
    nodes: dict[int, bytes],
) -> None:
    if nodes:
        stored = dict(
            session.execute(
                select(LedgerNode.key, LedgerNode.hash).where(LedgerNode.key.in_(list(nodes)))
            ).all()
        )
        for key, value in nodes.items():
            if key not in stored:
                report.problem(f"Merkle node {key:#x} is missing.")
            elif bytes(stored[key]) != value:
                report.problem(f"Merkle node {key:#x} does not match the entries below it.")
    if not batch:
        return
    first, last = batch[0][0], batch[-1][0]
    stored_subjects = {
        (kind, ref, seq)
        for kind, ref, seq in session.execute(
            select(LedgerSubject.kind, LedgerSubject.ref, LedgerSubject.seq).where(
                LedgerSubject.seq.between(first, last)
            )
        )
    }
    expected = {
        (kind, ref, seq)
        for seq, subjects in batch
        for kind, refs in subjects.items()
        for ref in refs
    }
    for kind, ref, seq in sorted(expected - stored_subjects):
        report.problem(f"Entry {seq}: subject {kind} {ref} is missing from the index.")
    for kind, ref, seq in sorted(stored_subjects - expected):
        report.problem(f"Entry {seq}: subject index has {kind} {ref}, which the entry lacks.")


def verify_ledger(session: Session, settings: Settings) -> LedgerReport:
    report = LedgerReport()
    heads = all_heads(session)
    wanted_sizes = {h.tree_size for h in heads}
    roots: dict[int, bytes] = {}
    frontier = merkle.Frontier(0, [])
    if 0 in wanted_sizes:
        roots[0] = frontier.root()
    prev = ZERO_HASH
    rows = session.execute(
        select(
            LedgerEntry.seq, LedgerEntry.at, LedgerEntry.actor, LedgerEntry.action,
            LedgerEntry.body, LedgerEntry.leaf_hash,
        ).order_by(LedgerEntry.seq).execution_options(yield_per=_BATCH)
    )  # fmt: skip
    all_nodes = 0
    while chunk := list(islice(rows, _BATCH)):
        batch: list[tuple[int, dict[str, list[str]]]] = []
        nodes: dict[int, bytes] = {}
        for seq, at, actor, action, body, stored_leaf in chunk:
            if seq != frontier.size:
                report.problem(f"Entry {frontier.size} is missing (next is {seq}).")
            try:
                fields = json.loads(body)
            except ValueError:
                report.problem(f"Entry {seq}: its body is not valid JSON.")
                fields = {}
            stamp = at.isoformat().replace("+00:00", "Z")
            expected = {"seq": seq, "actor": actor, "action": action, "at": stamp}
            for name, value in expected.items():
                if fields.get(name) != value:
                    report.problem(f"Entry {seq}: column {name} differs from the signed body.")
            if fields.get("prev") != prev.hex():
                report.problem(f"Entry {seq}: the hash chain is broken (prev does not match).")
            leaf = leaf_hash(body.encode())
            if bytes(stored_leaf) != leaf:
                report.problem(f"Entry {seq}: stored leaf hash does not match its body.")
            for key, value in frontier.append(leaf):
                nodes[key] = value
            if frontier.size in wanted_sizes:
                roots[frontier.size] = frontier.root()
            batch.append((seq, fields.get("subjects") or {}))
            prev = leaf
        all_nodes += len(nodes)
        _check_batch(session, report, batch, nodes)
    report.entries = frontier.size
    stored_nodes = session.scalar(select(func.count()).select_from(LedgerNode)) or 0
    if stored_nodes != all_nodes:
        report.problem(f"The ledger stores {stored_nodes} Merkle nodes; expected {all_nodes}.")
    size, last_leaf, frontier_bytes, root = session.execute(
        select(LedgerHead.size, LedgerHead.last_leaf, LedgerHead.frontier, LedgerHead.root)
    ).one()
    if (size, bytes(last_leaf), bytes(frontier_bytes), bytes(root)) != (
        frontier.size, prev, frontier.to_bytes(), frontier.root(),
    ):  # fmt: skip
        report.problem("The ledger head does not match the entries (size, last hash or root).")
    trusted = trusted_public_keys(settings)
    for head in heads:
        report.tree_heads += 1
        name = f"Tree head at size {head.tree_size} ({head.timestamp})"
        if not ed25519.verify(head.public_key, head.body.encode(), head.signature):
            report.problem(f"{name}: the signature is not valid.")
        if trusted.get(head.key_id) != head.public_key:
            report.problem(f"{name}: signed by key {head.key_id}, which is not a trusted key.")
        body = json.loads(head.body)
        if body.get("tree_size") != head.tree_size or body.get("root_hash") != head.root_hash.hex():
            report.problem(f"{name}: its columns differ from the signed body.")
        if head.tree_size > frontier.size:
            report.problem(f"{name}: the ledger has only {frontier.size} entries.")
        elif roots.get(head.tree_size) != head.root_hash:
            report.problem(f"{name}: the entries no longer produce the signed root.")
    return report
