"""The fetcher refuses what it must and survives hostile servers; the monitor goes on."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import FetchFailedError, FetchRefusedError, MonitorError
from chorus.monitor import targets
from chorus.monitor.fetch import Fetcher, FetchPolicy
from chorus.monitor.models import MonitorCounter, MonitorTarget
from chorus.monitor.pipeline import Monitor
from chorus.monitor.sniff import HTML, IMAGE, JSON, OTHER, sniff
from chorus.store.base import utcnow
from chorus.store.session import transaction

from .board import Board, gzip_bomb, running

LOCAL = FetchPolicy.allowing(["127.0.0.1"], min_interval_s=0, max_bytes=1_000_000, timeout_s=5)


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header declaring a huge image, with a tiny (zero) body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 2000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_private_addresses_are_refused_unless_allowed() -> None:
    board = Board()
    with running(board) as base:
        with Fetcher(FetchPolicy(min_interval_s=0)) as strict, pytest.raises(FetchRefusedError):
            strict.get(f"{base}/robots.txt")
        with Fetcher(LOCAL) as local:
            assert local.get(f"{base}/robots.txt").status == 200
            for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "https://images.google.com/x",
                        "https://lens.google.com/upload"):  # fmt: skip
                with pytest.raises(FetchRefusedError):
                    local.get(url)
            # a redirect into a private address is checked like the first hop
            board.extra["/hop"] = (302, {"Location": "http://10.0.0.1/admin"}, b"")
            with pytest.raises(FetchRefusedError):
                local.get(f"{base}/hop")


def test_hostile_servers_are_cut_off_with_a_reason() -> None:
    board = Board()
    board.extra["/loop"] = (302, {"Location": "/loop"}, b"")
    board.extra["/huge"] = (200, {"Content-Type": "text/html"}, b"<html>" + b"x" * 2_000_000)
    board.extra["/bomb"] = (
        200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip_bomb(50_000_000)
    )  # fmt: skip
    with running(board) as base, Fetcher(LOCAL) as fetcher:
        with pytest.raises(FetchFailedError, match="redirects more than"):
            fetcher.get(f"{base}/loop")
        with pytest.raises(FetchFailedError, match="over 1,000,000 bytes"):
            fetcher.get(f"{base}/huge")
        with pytest.raises(FetchFailedError, match="over 1,000,000 bytes"):
            fetcher.get(f"{base}/bomb")
        assert not fetcher.robots_allow(f"{base}/private/page")
        assert fetcher.robots_allow(f"{base}/b/thread/1.json")


def test_content_is_sniffed_not_trusted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    assert sniff(out.getvalue()) == IMAGE
    assert sniff(b"<!DOCTYPE html><html>") == HTML
    assert sniff(b' {"posts": []}') == JSON
    assert sniff(b"%PDF-1.7") == OTHER


def test_hostile_media_is_skipped_and_the_monitor_goes_on(
    sessions: sessionmaker[Session],
    settings: Settings,
    photos: list[Path],
) -> None:
    board = Board()
    board.extra["/page"] = (200, {"Content-Type": "text/html"}, (
        b"<html><body><img src='/bomb.png'><img src='/fake.jpg'><img src='/missing.jpg'>"
        b"<img src='/ok.jpg'><a href='https://tineye.com/search?url=x'>x</a></body></html>"
    ))  # fmt: skip
    board.extra["/bomb.png"] = (200, {"Content-Type": "image/png"}, png_bomb())
    board.extra["/fake.jpg"] = (200, {"Content-Type": "image/jpeg"}, b"<html>not an image</html>")
    board.extra["/ok.jpg"] = (200, {"Content-Type": "image/jpeg"}, photos[0].read_bytes())
    with running(board) as base, Monitor(sessions, settings) as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/page", "html")
            with pytest.raises(MonitorError):
                targets.add(session, "https://tineye.com/search?url=x", "html")
        report = monitor.run_once()
    assert report.media == 1  # the real photo; three skipped with reasons, none fatal
    reasons = " ".join(report.skipped)
    assert "bomb.png" in reasons and "fake.jpg" in reasons and "missing.jpg" in reasons
    assert "tineye" not in reasons  # never even tried
    with transaction(sessions) as session:
        counters = {
            name: value
            for name, value in session.execute(select(MonitorCounter.name, MonitorCounter.value))
        }
    assert counters == {"media_skipped": 3, "media_fingerprinted": 1}


def test_two_workers_never_claim_the_same_target_and_dead_claims_expire(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        for n in range(6):
            targets.add(session, f"http://board.example/b/thread/{n}.json", "4chan")
    with transaction(sessions) as session:
        first = targets.claim_due(session, "w1", limit=4, lease_s=60)
    with transaction(sessions) as session:
        second = targets.claim_due(session, "w2", limit=4, lease_s=60)
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
    with transaction(sessions) as session:
        assert targets.claim_due(session, "w3", limit=4) == []
        later = utcnow() + timedelta(seconds=120)  # w1 was killed: its leases run out
        retaken = targets.claim_due(session, "w3", limit=10, now=later)
    assert sorted(retaken) == sorted(first + second)
    with transaction(sessions) as session:
        owners = set(session.scalars(select(MonitorTarget.claimed_by)))
    assert owners == {"w3"}
