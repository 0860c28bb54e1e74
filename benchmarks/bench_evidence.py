"""Evidence ledger at scale: appends/s, inclusion-proof time and verify-ledger on SQLite.

Appends N entries (default 1,000,000) to a fresh SQLite ledger in transactions of
--batch events, then times inclusion proofs for random entries against the full tree,
consistency proofs, and a full verify-ledger. The peer in the same run is the same events
inserted into a plain table with no hash chain and no Merkle tree: the ratio is what
tamper evidence costs. Also times one event per transaction (the worst case for callers
that record a single change).

    .venv/bin/python benchmarks/bench_evidence.py [--entries N] [--batch B] [--no-write]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert

from _results import machine, now, pin_to_one_core, write_section
from chorus.config import Settings
from chorus.evidence import audit, ledger, tree_heads
from chorus.evidence.offline.proofs import verify_consistency, verify_inclusion
from chorus.evidence.tags import EventTag
from chorus.store import migrate
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction


def events(start: int, count: int) -> list[ledger.Event]:
    return [
        ledger.Event(
            EventTag.SIGHTING_RECORDED,
            "system:monitor",
            {"case": f"C{i % 5000}", "sighting": f"SG-{i}"},
        )
        for i in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--single", type=int, default=5000, help="one-event transactions")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    folder = Path(tempfile.mkdtemp(prefix="chorus-bench-evidence-"))
    settings = Settings(
        env="test", secret_key="b" * 40, data_dir=folder,
        evidence_signing_key=base64.b64encode(b"k" * 32).decode(),  # type: ignore[arg-type]
        evidence_master_key=base64.b64encode(b"m" * 32).decode(),  # type: ignore[arg-type]
    )  # fmt: skip

    # The peer: the same rows in a plain table, same batches, same engine settings.
    plain_engine = make_engine(f"sqlite:///{folder / 'plain.db'}")
    meta = MetaData()
    plain = Table(
        "events", meta, Column("seq", Integer, primary_key=True), Column("actor", String(120)),
        Column("action", String(80)), Column("subjects", Text),
    )  # fmt: skip
    meta.create_all(plain_engine)
    t0 = time.perf_counter()
    for start in range(0, args.entries, args.batch):
        rows = [
            {"seq": i, "actor": "system:monitor", "action": "monitor:sighting:recorded",
             "subjects": f'{{"case":["C{i % 5000}"],"sighting":["SG-{i}"]}}'}
            for i in range(start, min(start + args.batch, args.entries))
        ]  # fmt: skip
        with plain_engine.begin() as conn:
            conn.execute(insert(plain), rows)
    plain_rate = args.entries / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(args.single):
        with plain_engine.begin() as conn:
            conn.execute(insert(plain), [{"seq": args.entries + i, "actor": "system:takedowns",
                                          "action": "takedowns:notice:sent",
                                          "subjects": f'{{"notice":["N{i}"]}}'}])  # fmt: skip
    plain_single_rate = args.single / (time.perf_counter() - t0)

    engine = make_engine(f"sqlite:///{folder / 'chorus.db'}")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    t0 = time.perf_counter()
    for start in range(0, args.entries, args.batch):
        with transaction(sessions) as session:
            ledger.append_many(session, events(start, min(args.batch, args.entries - start)))
    batch_rate = args.entries / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(args.single):
        with transaction(sessions) as session:
            ledger.append(session, EventTag.NOTICE_SENT, "system:takedowns", {"notice": f"N{i}"})
    single_rate = args.single / (time.perf_counter() - t0)

    with transaction(sessions) as session:
        head = tree_heads.sign(session, settings)
    size, root = head.tree_size, head.root_hash
    rng = random.Random(7)
    times = []
    with transaction(sessions) as session:
        for seq in (rng.randrange(size) for _ in range(args.proofs)):
            t0 = time.perf_counter()
            proof = ledger.inclusion_proof(session, seq, size)
            times.append((time.perf_counter() - t0) * 1000)
            leaf = ledger.entries(session, [seq])[0].leaf_hash
            assert verify_inclusion(seq, size, leaf, proof, root)
        ctimes = []
        for old in (rng.randrange(1, size) for _ in range(200)):
            t0 = time.perf_counter()
            proof = ledger.consistency_proof(session, old, size)
            old_root = ledger.root_at(session, old)
            ctimes.append((time.perf_counter() - t0) * 1000)
            assert verify_consistency(old, size, old_root, root, proof)
        t0 = time.perf_counter()
        report = audit.verify_ledger(session, settings)
        verify_s = time.perf_counter() - t0
    assert report.ok, report.problems
    db_bytes = sum(p.stat().st_size for p in folder.glob("chorus.db*"))
    times.sort()
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99)]
    rows = [
        (f"appends, {args.batch:,} events per transaction", f"**{batch_rate:,.0f} /s**",
         ">= 5,000 /s"),
        ("plain-table peer, same batches",
         f"{plain_rate:,.0f} /s (ledger = {batch_rate / plain_rate:.2f}x peer)", ""),
        ("appends, one event per transaction (each commit waits for the disk)",
         f"{single_rate:,.0f} /s (peer {plain_single_rate:,.0f} /s: "
         f"{single_rate / plain_single_rate:.2f}x)", ""),
        (f"inclusion proof, random entry of {size:,} (median / p99 / max)",
         f"{p50:.2f} / {p99:.2f} / {times[-1]:.2f} ms", "< 10 ms"),
        ("consistency proof + old root (median)", f"{statistics.median(ctimes):.2f} ms", ""),
        ("verify-ledger, whole ledger", f"{verify_s:.1f} s ({size / verify_s:,.0f} entries/s)",
         ""),
        ("database size", f"{db_bytes / size:.0f} bytes/entry", ""),
    ]  # fmt: skip
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    body = f"""## Evidence ledger ({now()})

`benchmarks/bench_evidence.py --entries {args.entries:,} --batch {args.batch}` on
{machine()}; pinned to core {core}; load average at the end {load} (other work on the
machine slows everything; compare the ratios). Fresh SQLite (WAL) database; each entry
has two subjects, no payload. Peer: the same rows into a plain SQLite table with the same
batches (no chain, no Merkle tree, no subject index).

| measure | result | target |
| --- | --- | --- |
{table}
"""
    print(body)
    engine.dispose()
    plain_engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    if not args.no_write:
        write_section("bench_evidence", body)


if __name__ == "__main__":
    main()
