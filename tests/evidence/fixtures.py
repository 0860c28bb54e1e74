"""Real servers for evidence tests: a small image board page and an RFC 3161 authority."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def board_handler(photo: bytes) -> type[BaseHTTPRequestHandler]:
    """A thread page with one (benign) photo, as an image board would serve it."""

    class Board(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/b/thread/1001":
                body = b"<html><body><p>Thread 1001</p><img src='/src/1001.jpg'></body></html>"
                kind = "text/html; charset=utf-8"
            elif self.path == "/src/1001.jpg":
                body, kind = photo, "image/jpeg"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Board", "test-board")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Board


_TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@contextmanager
def timestamp_authority() -> Iterator[tuple[str, Path]]:
    """A local RFC 3161 authority: `openssl ts -reply` behind HTTP. Yields (url, CA file)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
        _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                 "-subj", "/CN=Chorus Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
        _openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj",
                 "/CN=Chorus Test TSA", cwd=folder)  # fmt: skip
        (folder / "ext.cnf").write_text(
            "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
        )
        _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "ext.cnf",
                 cwd=folder)  # fmt: skip
        (folder / "serial").write_text("01\n")
        (folder / "tsa.cnf").write_text(_TSA_CONFIG.format(dir=folder))
        lock = threading.Lock()

        class Authority(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    (folder / "q.tsq").write_bytes(query)
                    _openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq",
                             "-out", "r.tsr", cwd=folder)  # fmt: skip
                    reply = (folder / "r.tsr").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        with serve(Authority) as url:
            yield url, folder
