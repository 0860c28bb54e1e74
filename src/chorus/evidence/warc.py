"""WARC records (ISO 28500) for evidence captures, written and read with warcio.

A capture of a web page is one gzipped WARC file: a ``warcinfo`` record naming Chorus and
its version, then a ``request`` and a ``response`` record for every URL fetched (the page,
each image, thumbnails, JSON). The response records keep the server's status line and
headers exactly as received.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from chorus import __version__
from chorus.errors import EvidenceError


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response to it, as fetched."""

    url: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_httpx(cls, response: httpx.Response, fetched_at: datetime | None = None) -> Exchange:
        request = response.request
        return cls(
            url=str(request.url),
            status=response.status_code,
            reason=response.reason_phrase,
            response_headers=_raw(response.headers),
            body=response.content,
            fetched_at=fetched_at or datetime.now(UTC),
            method=request.method,
            request_headers=_raw(request.headers),
        )


def _raw(headers: httpx.Headers) -> list[tuple[str, str]]:
    """Header names and values exactly as sent or received (case kept)."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]


@dataclass(frozen=True)
class CaptureRecord:
    """What a court needs to know of one fetched URL (from a response record)."""

    url: str
    fetched_at: str
    status: int
    headers: list[tuple[str, str]]
    content_type: str
    body: bytes
    record_id: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_FRAMING = {"content-encoding", "transfer-encoding"}


def _decoded_body_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every header as received. The body is kept decoded, so when the server compressed or
    chunked it, the framing headers are kept under the ``X-Archive-Orig-`` prefix (the
    web-archiving convention) instead of describing a body they no longer match."""
    if not any(k.lower() in _FRAMING for k, _v in headers):
        return list(headers)
    framing = _FRAMING | {"content-length"}
    return [(f"X-Archive-Orig-{k}" if k.lower() in framing else k, v) for k, v in headers]


def build_warc(exchanges: Iterable[Exchange], *, operator: str = "Chorus") -> bytes:
    """One gzipped WARC file holding every exchange, with a warcinfo record first."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(
        writer.create_warcinfo_record(
            "capture.warc.gz",
            {"software": f"Chorus {__version__}", "format": "WARC/1.1", "operator": operator},
        )
    )
    for exchange in exchanges:
        date = {"WARC-Date": _iso(exchange.fetched_at)}
        target = urlsplit(exchange.url)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        protocol = "HTTP/1.1"
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            warc_headers_dict=date,
            http_headers=StatusAndHeaders(
                f"{exchange.method} {path} {protocol}",
                exchange.request_headers,
                is_http_request=True,
            ),
        )
        headers = _decoded_body_headers(exchange.response_headers)
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=date,
            http_headers=StatusAndHeaders(
                f"{exchange.status} {exchange.reason}", headers, protocol=protocol
            ),
        )
        writer.write_record(request)
        writer.write_record(response)
    return buffer.getvalue()


_MAX_EXPANDED = 1024**3


def _check_complete_gzip(data: bytes) -> None:
    """Every gzip member ends properly (a truncated capture is refused, not half-read), and
    the whole expands to at most 1 GiB (no decompression bombs)."""
    if not data.startswith(b"\x1f\x8b"):
        raise EvidenceError("A WARC capture must be gzip-compressed (.warc.gz).")
    rest, expanded = data, 0
    while rest:
        member = zlib.decompressobj(wbits=31)
        while True:
            chunk = member.decompress(rest, 1 << 20)
            expanded += len(chunk)
            if expanded > _MAX_EXPANDED:
                raise EvidenceError(
                    f"This WARC capture expands to more than {_MAX_EXPANDED:,} bytes; refused."
                )
            rest = member.unconsumed_tail
            if member.eof or not rest:
                break
        if not member.eof:
            raise EvidenceError("This WARC capture is truncated (it ends part-way through).")
        rest = member.unused_data


def read_responses(data: bytes) -> list[CaptureRecord]:
    """Every response record of a WARC file; EvidenceError if it is not a readable WARC."""
    out: list[CaptureRecord] = []
    _check_complete_gzip(data)
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response":
                continue
            http = record.http_headers
            out.append(
                CaptureRecord(
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    fetched_at=record.rec_headers.get_header("WARC-Date"),
                    status=int(http.get_statuscode()),
                    headers=list(http.headers),
                    content_type=http.get_header("Content-Type") or "",
                    body=record.content_stream().read(),
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                )
            )
    except (ArchiveLoadFailed, ValueError, OSError, EOFError) as exc:
        raise EvidenceError(
            "This capture is not a readable WARC file (damaged or another format)."
        ) from exc
    if not out:
        raise EvidenceError("This WARC file holds no responses to keep as evidence.")
    return out
