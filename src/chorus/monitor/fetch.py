"""Polite, safe fetching for the monitor.

- **SSRF guard**: every hop's host is resolved and each address checked; private,
  loopback, link-local, multicast and reserved addresses are refused unless allow-listed
  (the tests allow 127.0.0.1). The request then goes to the checked address itself (with
  the original Host header and TLS server name), so DNS cannot be switched in between.
- **Limits**: bounded redirects (each hop checked again), a response size cap enforced
  while streaming, a total time budget, gzip/deflate bodies counted after decoding.
- **Politeness**: one request at a time per host and a minimum interval between them
  (default 1 s) in each process, and across processes through the database when a
  :class:`SharedGate` is given (monitor/politeness.py); conditional requests (ETag /
  Last-Modified), robots.txt (RFC 9309, via protego) when discovering; re-checks of URLs
  a survivor reported are user-initiated and skip robots.txt, as documented.
- **Never** fetches reverse-image-search or web-proxy services, whatever links point there.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from protego import Protego

from chorus import __version__
from chorus.errors import FetchFailedError, FetchRefusedError
from chorus.evidence.warc import Exchange

USER_AGENT = f"ChorusMonitor/{__version__} (+https://github.com/chorus-iia; abuse response)"

#: Services whose pages are other sites' content seen through them: never fetched.
BLOCKED_SERVICES = (
    "images.google.", "lens.google.", "tineye.com", "yandex.com/images", "yandex.ru/images",
    "bing.com/images", "bing.com/visualsearch", "pimeyes.com", "facecheck.id",
    "translate.goog", "translate.google.", "archive.org/wayback", "hide.me/proxy",
    "proxysite.com", "croxyproxy.", "kproxy.com",
)  # fmt: skip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Turns a host name into its addresses (strings); raises FetchFailedError when it cannot.
HostResolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 32 * 1024 * 1024
    timeout_s: float = 20.0
    max_redirects: int = 5
    min_interval_s: float = 1.0
    allowed_networks: tuple[Network, ...] = ()
    user_agent: str = USER_AGENT

    @classmethod
    def allowing(cls, addresses: Iterable[str], **kwargs: float | int) -> FetchPolicy:
        networks = tuple(ipaddress.ip_network(a, strict=False) for a in addresses)
        return cls(allowed_networks=networks, **kwargs)  # type: ignore[arg-type]


@dataclass
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    headers: httpx.Headers
    body: bytes
    exchanges: list[Exchange] = field(default_factory=list)  # every hop, for the WARC

    @property
    def not_modified(self) -> bool:
        return self.status == 304


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and may be translated to, if any."""
    if address.version == 4:
        return None
    assert isinstance(address, ipaddress.IPv6Address)
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or int(address) >> 32 == 0:  # NAT64; IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_service(url: str) -> bool:
    parts = urlsplit(url.lower())
    where = (parts.hostname or "") + parts.path
    return any(marker in where for marker in BLOCKED_SERVICES)


class SharedGate(Protocol):
    """A per-host gate shared with other processes (monitor.politeness.HostSlots)."""

    def wait(self, host: str, interval: float) -> None: ...

    def release(self, host: str, interval: float) -> None: ...


class _HostGate:
    """One request at a time per host, at least ``interval`` seconds apart.

    In-process first (a lock and the time of the last request per host), then, when
    ``shared`` is given, the slot other processes see: only one thread of each process
    per host ever waits on the database.
    """

    def __init__(self, interval: float, shared: SharedGate | None = None) -> None:
        self.interval = interval
        self.shared = shared
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._guard = threading.Lock()

    def wait(self, host: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        lock.acquire()
        try:
            pause = self._last.get(host, 0.0) + self.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if self.shared is not None:
                self.shared.wait(host, self.interval)
        except BaseException:
            lock.release()
            raise
        return lock

    def done(self, host: str, lock: threading.Lock) -> None:
        self._last[host] = time.monotonic()
        try:
            if self.shared is not None:
                self.shared.release(host, self.interval)
        finally:
            lock.release()


class Fetcher:
    """The monitor's only way out to the web."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        shared: SharedGate | None = None,
        *,
        resolver: HostResolver | None = None,
    ) -> None:
        """``shared`` spaces requests to one host across processes (the database's host
        slots); ``resolver`` replaces the system's name lookup (takedown discovery passes
        its own DNS resolver): every address it returns is still checked by the SSRF guard."""
        self.policy = policy or FetchPolicy()
        self._resolver = resolver
        self._gate = _HostGate(self.policy.min_interval_s, shared)
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout_s),
            headers={"User-Agent": self.policy.user_agent},
            trust_env=False,  # no proxies from the environment
        )
        self._robots: dict[str, Protego | None] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- address checks --------------------------------------------------------------------

    def _allowed(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if any(address in network for network in self.policy.allowed_networks):
            return True
        inner = _embedded_ipv4(address)
        if inner is not None and not (inner.is_global and not inner.is_multicast):
            return False  # a private address wrapped in IPv6 (NAT64, 6to4, Teredo, ...)
        return address.is_global and not address.is_multicast

    def _resolve(self, host: str, port: int) -> str:
        if self._resolver is not None:
            addresses = [ipaddress.ip_address(a) for a in self._resolver(host)]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise FetchFailedError(f"The host {host} could not be found.") from exc
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        refused = [a for a in addresses if not self._allowed(a)]
        if refused or not addresses:
            raise FetchRefusedError(
                f"{host} points to a private or reserved address "
                f"({refused[0] if refused else '?'}); the monitor does not fetch those "
                "(CHORUS_MONITOR_ALLOWED_NETWORKS)."
            )
        return str(addresses[0])

    def _check_url(self, url: str) -> tuple[str, str, int]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefusedError(f"Only http and https URLs are fetched, not {url[:80]!r}.")
        if blocked_service(url):
            raise FetchRefusedError(f"{parts.hostname} is a search or proxy service; not fetched.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return parts.hostname, self._resolve(parts.hostname, port), port

    # -- robots.txt ------------------------------------------------------------------------

    def robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            try:
                got = self.get(origin + "/robots.txt", max_bytes=512 * 1024)
                text = got.body.decode("utf-8", "replace") if got.status == 200 else ""
                self._robots[origin] = Protego.parse(text) if text else None
            except (FetchFailedError, FetchRefusedError):
                self._robots[origin] = None  # RFC 9309: unreachable robots.txt = allowed (4xx)
        rules = self._robots[origin]
        return True if rules is None else bool(rules.can_fetch(url, "ChorusMonitor"))

    # -- fetching --------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        accept: str | None = None,
    ) -> Fetched:
        """GET with every hop checked; FetchRefusedError / FetchFailedError on any limit."""
        limit = max_bytes or self.policy.max_bytes
        deadline = time.monotonic() + self.policy.timeout_s
        exchanges: list[Exchange] = []
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            host, address, port = self._check_url(current)
            parts = urlsplit(current)
            netloc = f"[{address}]" if ":" in address else address
            target = urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/",
                                 parts.query, ""))  # fmt: skip
            headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            if accept:
                headers["Accept"] = accept
            lock = self._gate.wait(host)
            try:
                body, response = self._stream(target, headers, host, limit, deadline)
            finally:
                self._gate.done(host, lock)
            exchanges.append(
                Exchange(
                    url=current, status=response.status_code, reason=response.reason_phrase,
                    response_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                                      for k, v in response.headers.raw],
                    body=body, fetched_at=datetime.now(UTC),
                    request_headers=[("Host", headers["Host"]),
                                     ("User-Agent", self.policy.user_agent)],
                )
            )  # fmt: skip
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise FetchFailedError(f"{current[:120]} redirects without a location.")
                current = urljoin(current, location)
                continue
            return Fetched(current, response.status_code, response.headers, body, exchanges)
        raise FetchFailedError(
            f"{url[:120]} redirects more than {self.policy.max_redirects} times."
        )

    def _stream(
        self, target: str, headers: dict[str, str], host: str, limit: int, deadline: float
    ) -> tuple[bytes, httpx.Response]:
        request = self._client.build_request(
            "GET", target, headers=headers, extensions={"sni_hostname": host}
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise FetchFailedError(f"Could not fetch from {host}: {type(exc).__name__}.") from exc
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchFailedError(f"The response from {host} is over {limit:,} bytes.")
            chunks, size = [], 0
            for chunk in response.iter_bytes():  # decoded: a gzip bomb is counted expanded
                size += len(chunk)
                if size > limit:
                    raise FetchFailedError(f"The response from {host} is over {limit:,} bytes.")
                if time.monotonic() > deadline:
                    raise FetchFailedError(f"{host} took longer than {self.policy.timeout_s} s.")
                chunks.append(chunk)
            return b"".join(chunks), response
        except httpx.HTTPError as exc:
            raise FetchFailedError(f"Could not read the response from {host}.") from exc
        finally:
            response.close()
