"""A small image board speaking the 4chan JSON API, for the monitor's tests.

Threads and posts live in memory; deleting a post removes it from the thread JSON, the
page and the full file, but (like many real boards behind caches) the thumbnail stays
served until ``purge_thumbnails`` is called.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


@dataclass
class Post:
    no: int
    tim: int
    image: bytes
    thumb: bytes
    text: str = ""


@dataclass
class Board:
    name: str = "b"
    threads: dict[int, list[Post]] = field(default_factory=dict)
    deleted_thumbs: dict[int, bytes] = field(default_factory=dict)
    extra: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    _next: int = 1000
    _thumbs: dict[int, bytes] = field(default_factory=dict)
    _by_tim: dict[int, Post] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def thumbnail(self, image: bytes) -> bytes:
        key = hash(image)
        if key not in self._thumbs:
            picture = Image.open(io.BytesIO(image))
            picture.thumbnail((125, 125))
            out = io.BytesIO()
            picture.convert("RGB").save(out, "JPEG", quality=70)
            self._thumbs[key] = out.getvalue()
        return self._thumbs[key]

    def post(self, thread: int | None, image: bytes, text: str = "") -> Post:
        thumb = self.thumbnail(image)
        with self.lock:
            self._next += 1
            post = Post(self._next, 1700000000000 + self._next, image, thumb, text)
            self.threads.setdefault(thread or post.no, []).append(post)
            self._by_tim[post.tim] = post
            return post

    def delete(self, no: int) -> None:
        with self.lock:
            for posts in self.threads.values():
                for post in list(posts):
                    if post.no == no:
                        posts.remove(post)
                        self._by_tim.pop(post.tim, None)
                        self.deleted_thumbs[post.tim] = post.thumb

    def purge_thumbnails(self) -> None:
        self.deleted_thumbs.clear()

    def file(self, path: str) -> bytes | None:
        """The full image or thumbnail at ``path`` (``/b/{tim}.jpg``, ``/b/{tim}s.jpg``).

        Looked up by ``tim`` through an index, so a board of 50,000 posts answers as fast
        as a small one (the memory benchmark serves every post once).
        """
        prefix = f"/{self.name}/"
        if not (path.startswith(prefix) and path.endswith(".jpg")):
            return None
        stem = path[len(prefix) : -len(".jpg")]
        thumb = stem.endswith("s")
        tim = stem[:-1] if thumb else stem
        if not tim.isdigit():
            return None
        post = self._by_tim.get(int(tim))
        if post is None:
            return self.deleted_thumbs.get(int(tim)) if thumb else None
        return post.thumb if thumb else post.image


def handler(board: Board) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def send(
            self, status: int, kind: str, body: bytes, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path, b = self.path.split("?")[0], board.name
            with board.lock:
                if path in board.extra:
                    status, headers, body = board.extra[path]
                    self.send(status, headers.get("Content-Type", "text/html"), body, headers)
                    return
                if path == "/robots.txt":
                    self.send(200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
                    return
                if path == f"/{b}/catalog.json":
                    threads = [
                        {"no": no, "replies": len(p)} for no, p in board.threads.items() if p
                    ]
                    self.send(
                        200,
                        "application/json",
                        json.dumps([{"page": 1, "threads": threads}]).encode(),
                    )
                    return
                for no, posts in board.threads.items():
                    if path == f"/{b}/thread/{no}.json" and posts:
                        data = {
                            "posts": [
                                {"no": p.no, "tim": p.tim, "ext": ".jpg", "com": p.text}
                                for p in posts
                            ]
                        }
                        self.send(200, "application/json", json.dumps(data).encode())
                        return
                    if path == f"/{b}/thread/{no}" and posts:
                        imgs = "".join(f"<img src='/{b}/{p.tim}s.jpg'>" for p in posts)
                        self.send(200, "text/html", f"<html><body>{imgs}</body></html>".encode())
                        return
                media = board.file(path)
            if media is not None:
                self.send(200, "image/jpeg", media)
                return
            self.send(404, "text/html", b"<html>404 Not Found</html>")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running(board: Board) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(board))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def gzip_bomb(size: int) -> bytes:
    return gzip.compress(bytes(size))
