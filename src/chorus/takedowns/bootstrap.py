"""The RDAP bootstrap registry (RFC 9224): which RDAP service answers for a domain, an
address or an AS number.

Chorus ships a fallback snapshot in IANA's format (``data/rdap-bootstrap/``, its
provenance in ``PROVENANCE.md`` there) and :func:`refresh` fetches IANA's own files.
:func:`load` prefers, in order: ``CHORUS_TAKEDOWN_RDAP_BOOTSTRAP_DIR``, a refreshed copy in
``<data_dir>/rdap-bootstrap/``, the shipped snapshot.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chorus.errors import DiscoveryError, FetchFailedError, FetchRefusedError
from chorus.monitor.fetch import Fetcher

KINDS = ("dns", "ipv4", "ipv6", "asn")
IANA_URL = "https://data.iana.org/rdap/"
SHIPPED = Path(__file__).parent / "data" / "rdap-bootstrap"
MAX_FILE_BYTES = 4 * 1024 * 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Bootstrap:
    """The four registries, parsed for lookups; ``origin`` says which folder they came from."""

    origin: str
    publication: str
    domains: dict[str, tuple[str, ...]]
    networks: tuple[tuple[Network, tuple[str, ...]], ...]  # most specific first
    asns: tuple[tuple[int, int, tuple[str, ...]], ...]

    def for_domain(self, name: str) -> tuple[str, ...]:
        """Service URLs for a domain: the longest matching label suffix (RFC 9224 s4)."""
        labels = name.lower().rstrip(".").split(".")
        for start in range(len(labels)):
            urls = self.domains.get(".".join(labels[start:]))
            if urls:
                return urls
        return ()

    def for_address(self, address: Address) -> tuple[str, ...]:
        for network, urls in self.networks:
            if network.version == address.version and address in network:
                return urls
        return ()

    def for_asn(self, number: int) -> tuple[str, ...]:
        for low, high, urls in self.asns:
            if low <= number <= high:
                return urls
        return ()


def _services(doc: object, kind: str) -> list[tuple[list[str], tuple[str, ...]]]:
    """The ``services`` of one bootstrap file, checked; DiscoveryError when it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise DiscoveryError(f"The RDAP bootstrap file {kind}.json has no list of services.")
    out = []
    for entry in doc["services"]:
        if (
            not isinstance(entry, list)
            or len(entry) < 2
            or not all(isinstance(s, str) for s in entry[0])
            or not all(isinstance(u, str) for u in entry[1])
        ):
            raise DiscoveryError(f"The RDAP bootstrap file {kind}.json has a malformed service.")
        urls = tuple(u if u.endswith("/") else u + "/" for u in entry[1]
                     if u.startswith(("https://", "http://")))  # fmt: skip
        # RFC 9224 s3: prefer https when a service offers both.
        urls = tuple(sorted(urls, key=lambda u: not u.startswith("https://")))
        if urls:
            out.append((list(entry[0]), urls))
    return out


def parse(docs: dict[str, object], origin: str) -> Bootstrap:
    """Build a :class:`Bootstrap` from the four decoded files (DiscoveryError if malformed)."""
    domains: dict[str, tuple[str, ...]] = {}
    networks: list[tuple[Network, tuple[str, ...]]] = []
    asns: list[tuple[int, int, tuple[str, ...]]] = []
    try:
        for selectors, urls in _services(docs["dns"], "dns"):
            for label in selectors:
                domains[label.lower().strip(".")] = urls
        for kind in ("ipv4", "ipv6"):
            for selectors, urls in _services(docs[kind], kind):
                networks.extend((ipaddress.ip_network(s, strict=False), urls) for s in selectors)
        for selectors, urls in _services(docs["asn"], "asn"):
            for selector in selectors:
                low, _, high = selector.partition("-")
                asns.append((int(low), int(high or low), urls))
    except (KeyError, ValueError) as exc:
        raise DiscoveryError(f"The RDAP bootstrap in {origin} is malformed ({exc}).") from exc
    networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    dns = docs["dns"]
    publication = str(dns.get("publication", "")) if isinstance(dns, dict) else ""
    return Bootstrap(origin, publication, domains, tuple(networks), tuple(asns))


def load_dir(folder: Path) -> Bootstrap:
    docs: dict[str, object] = {}
    for kind in KINDS:
        path = folder / f"{kind}.json"
        try:
            docs[kind] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DiscoveryError(f"The RDAP bootstrap file {path} cannot be read.") from exc
    return parse(docs, str(folder))


def refreshed_dir(data_dir: Path) -> Path:
    return data_dir / "rdap-bootstrap"


def load(configured: Path | None, data_dir: Path) -> Bootstrap:
    """The bootstrap discovery uses: the configured folder, a refreshed copy, the snapshot."""
    if configured is not None:
        return load_dir(configured)
    refreshed = refreshed_dir(data_dir)
    if all((refreshed / f"{kind}.json").exists() for kind in KINDS):
        return load_dir(refreshed)
    return load_dir(SHIPPED)


def refresh(fetcher: Fetcher, destination: Path, base_url: str = IANA_URL) -> Bootstrap:
    """Fetch the four files from ``base_url``, check them all, then replace the old ones.

    Nothing is written unless every file arrived and parsed, so a failed refresh leaves
    the bootstrap in use as it was.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    docs: dict[str, object] = {}
    raw: dict[str, bytes] = {}
    for kind in KINDS:
        url = f"{base}{kind}.json"
        try:
            got = fetcher.get(url, max_bytes=MAX_FILE_BYTES)
        except (FetchFailedError, FetchRefusedError) as exc:
            raise DiscoveryError(f"Could not fetch {url}: {exc.message}") from exc
        if got.status != 200:
            raise DiscoveryError(f"{url} answered HTTP {got.status}; nothing was changed.")
        try:
            docs[kind] = json.loads(got.body)
        except ValueError as exc:
            raise DiscoveryError(f"{url} is not JSON; nothing was changed.") from exc
        raw[kind] = got.body
    bootstrap = parse(docs, base)
    destination.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        handle, tmp = tempfile.mkstemp(dir=destination, prefix=f".{kind}.")
        with os.fdopen(handle, "wb") as out:
            out.write(raw[kind])
        os.replace(tmp, destination / f"{kind}.json")
    return bootstrap
