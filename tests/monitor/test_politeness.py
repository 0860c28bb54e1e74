"""Two monitor workers, each with its own engine on one database, share the per-host gate:
a server that records when each request arrives never sees two closer than the interval."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.monitor.fetch import Fetcher, FetchPolicy
from chorus.monitor.models import HostSlot
from chorus.monitor.pipeline import Monitor
from chorus.monitor.politeness import HostSlots
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction

INTERVAL = 0.25
TOLERANCE = 0.01  # the server's clock reads arrivals, not the moments requests were sent
PER_WORKER = 6


@contextmanager
def recording_server() -> Iterator[tuple[str, list[float]]]:
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrivals.append(time.monotonic())
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrivals
    finally:
        server.shutdown()
        server.server_close()


def _two_workers(base: str, fetchers: list[Fetcher]) -> None:
    start = threading.Barrier(len(fetchers))

    def work(fetcher: Fetcher, worker: int) -> None:
        start.wait()
        for n in range(PER_WORKER):
            assert fetcher.get(f"{base}/w{worker}/{n}").status == 200

    threads = [threading.Thread(target=work, args=(f, i)) for i, f in enumerate(fetchers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _gaps(arrivals: list[float]) -> list[float]:
    ordered = sorted(arrivals)
    return [b - a for a, b in itertools.pairwise(ordered)]


def test_two_workers_share_one_gate_per_host(database_url: str) -> None:
    policy = FetchPolicy.allowing(["127.0.0.1"], min_interval_s=INTERVAL)
    engines = [make_engine(database_url) for _ in range(2)]  # one engine per worker
    try:
        fetchers = [Fetcher(policy, shared=HostSlots(session_factory(e))) for e in engines]
        with recording_server() as (base, arrivals):
            began = time.monotonic()
            _two_workers(base, fetchers)
            took = time.monotonic() - began
        for fetcher in fetchers:
            fetcher.close()
        assert len(arrivals) == 2 * PER_WORKER
        assert min(_gaps(arrivals)) >= INTERVAL - TOLERANCE, _gaps(arrivals)
        assert took >= (2 * PER_WORKER - 1) * (INTERVAL - TOLERANCE)
        with transaction(session_factory(engines[0])) as session:
            assert session.scalars(select(HostSlot.host)).all() == ["127.0.0.1"]
    finally:
        for e in engines:
            e.dispose()


def test_without_the_shared_gate_two_workers_would_hit_a_host_twice_as_often() -> None:
    """The control: each process's own gate alone lets two workers crowd one host."""
    policy = FetchPolicy.allowing(["127.0.0.1"], min_interval_s=INTERVAL)
    fetchers = [Fetcher(policy) for _ in range(2)]
    with recording_server() as (base, arrivals):
        _two_workers(base, fetchers)
    for fetcher in fetchers:
        fetcher.close()
    assert min(_gaps(arrivals)) < INTERVAL / 2


def test_the_monitor_fetches_through_the_shared_gate(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    polite = settings.model_copy(update={"monitor_request_interval_s": INTERVAL})
    with recording_server() as (base, arrivals), Monitor(sessions, polite) as monitor:
        for n in range(3):
            monitor.fetcher.get(f"{base}/{n}")
    with transaction(sessions) as session:
        next_at = session.scalar(select(HostSlot.next_at).where(HostSlot.host == "127.0.0.1"))
    assert next_at is not None and abs(next_at - time.time()) < 5  # given back just now
    assert min(_gaps(arrivals)) >= INTERVAL - TOLERANCE
