"""Local servers for discovery tests: DNS (dnslib), RDAP and web sites, all on loopback.

The RDAP server answers RFC 9083-shaped objects for ip, domain and autnum queries, and
broken ones on purpose: no abuse entity, 404, a slow answer (past the client's timeout),
referral and redirect loops, malformed JSON and an oversized answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dnslib import AAAA, QTYPE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rdap+json"
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def rdap(doc: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(doc).encode())


Route = Callable[[str, str], Reply]  # (host without port, path) -> reply


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    port: int
    requests: list[tuple[str, str]]


@contextmanager
def http_server(route: Route) -> Iterator[Served]:
    requests: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            requests.append((host, self.path))
            reply = route(host, self.path)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a slow reply still sleeping does not hold up teardown
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", port, requests)
    finally:
        server.shutdown()
        server.server_close()


class _Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        if name not in self.records:
            reply.header.rcode = 3  # NXDOMAIN
            return reply
        for address in self.records[name]:
            if qtype == "A" and ":" not in address:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(address), ttl=60))
            elif qtype == "AAAA" and ":" in address:
                reply.add_answer(RR(request.q.qname, QTYPE.AAAA, rdata=AAAA(address), ttl=60))
        return reply


@contextmanager
def dns_server(records: dict[str, list[str]]) -> Iterator[int]:
    """A real DNS server (UDP) on 127.0.0.1 answering A/AAAA from ``records``; its port."""
    quiet = DNSLogger(log="-request,-reply,-truncated,-recv,-send,-data", prefix=False)
    server = DNSServer(_Zone(records), port=0, address="127.0.0.1", logger=quiet)
    server.start_thread()
    try:
        yield server.server.server_address[1]
    finally:
        server.stop()
