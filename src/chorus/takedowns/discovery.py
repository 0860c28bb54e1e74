"""Recipient discovery: from the URL of a copy to everyone who can be asked to remove it.

For each URL, every source is tried on its own and a failing one is recorded, never fatal:

1. site operator: security.txt, contact and abuse pages, ``abuse@`` the domain (RFC 2142);
2. hosting provider: DNS -> addresses -> RDAP (IANA bootstrap) -> the network's abuse
   contact, its name and origin AS;
3. registrar: domain RDAP, the registrar and its abuse contact;
4. CDN: an address in a CDN's published ranges routes to its abuse form (origin hidden);
5. search engines: Google's and Bing's removal forms (packs in ``search_engines``).

Only a URL that is not a web address raises (:class:`DiscoveryError`); everything else
comes back in a :class:`DiscoveryResult` with the failures and their reasons. Fetching goes
through the monitor's guarded fetcher (SSRF guard, size, time and redirect limits).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from chorus import __version__
from chorus.config import Settings, load_settings
from chorus.errors import DiscoveryError
from chorus.monitor.fetch import Fetcher, FetchPolicy
from chorus.takedowns import bootstrap as bootstrap_files
from chorus.takedowns import cdn, registries, search_engines, site
from chorus.takedowns.rdap import RdapClient
from chorus.takedowns.recipient import ESCALATION_ORDER, Confidence, Recipient, RecipientRole
from chorus.takedowns.resolver import Resolver

log = logging.getLogger(__name__)
USER_AGENT = f"ChorusTakedowns/{__version__} (+https://github.com/chorus-iia; abuse response)"
MAX_URL_LENGTH = 2048
MAX_ADDRESSES = 2  # host look-ups per URL (the first IPv4 and IPv6 addresses)
ROLE_ORDER = (*ESCALATION_ORDER, RecipientRole.SEARCH_ENGINE)


@dataclass(frozen=True)
class SourceFailure:
    """One source that gave nothing, and why, in words a caseworker can act on."""

    source: str
    reason: str


@dataclass
class DiscoveryResult:
    url: str
    host: str
    domain: str | None
    addresses: list[str] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    cdn: str | None = None  # the CDN in front of the site, when one was recognised
    bootstrap: str = ""  # which RDAP bootstrap was used

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["recipients"] = [
            {**asdict(r), "role": r.role.value, "confidence": r.confidence.value,
             "notes": list(r.notes), "reachable": r.reachable}
            for r in self.recipients
        ]  # fmt: skip
        return out


def check_url(url: str) -> tuple[str, str]:
    """(origin, host) of a web address; DiscoveryError when it is not one."""
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise DiscoveryError(f"That address is over {MAX_URL_LENGTH} characters long.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DiscoveryError(f"{text[:80]!r} is not a web address.") from exc
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise DiscoveryError(
            f"{text[:80]!r} is not a web address; give the full address, starting https://."
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise DiscoveryError(f"{host[:80]!r} is not a valid host name.") from exc
    netloc = f"[{host}]" if ":" in host else host
    origin = f"{parts.scheme}://{netloc}" + (f":{port}" if port else "")
    return origin, host


def make_fetcher(settings: Settings, resolver: Resolver | None = None) -> Fetcher:
    """The guarded fetcher discovery uses: the monitor's SSRF guard and politeness, the
    takedown size and time limits, names looked up with discovery's resolver."""
    resolver = resolver or Resolver(settings.takedown_dns_servers, settings.takedown_timeout_s)
    policy = FetchPolicy.allowing(
        settings.monitor_allowed_networks,
        max_bytes=settings.takedown_max_bytes,
        timeout_s=settings.takedown_timeout_s,
        max_redirects=5,
        min_interval_s=settings.monitor_request_interval_s,
    )
    return Fetcher(replace(policy, user_agent=USER_AGENT), resolver=resolver.for_fetcher)


class Discoverer:
    """Discovery with its resolver, fetcher, bootstrap and CDN ranges; reuse for many URLs."""

    def __init__(
        self,
        settings: Settings,
        *,
        bootstrap: bootstrap_files.Bootstrap | None = None,
        cdn_ranges: cdn.CdnRanges | None = None,
    ) -> None:
        self.bootstrap = bootstrap or bootstrap_files.load(
            settings.takedown_rdap_bootstrap_dir, settings.data_dir
        )
        self.cdn_ranges = cdn_ranges or cdn.load(settings.takedown_cdn_ranges_file)
        self.resolver = Resolver(settings.takedown_dns_servers, settings.takedown_timeout_s)
        self.fetcher = make_fetcher(settings, self.resolver)
        self._by_origin: dict[str, DiscoveryResult] = {}
        self._by_address: dict[str, tuple[Recipient | None, list[SourceFailure]]] = {}
        self.rdap = RdapClient(self.fetcher, settings.takedown_max_bytes)

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> Discoverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _try(self, result: DiscoveryResult, source: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except DiscoveryError as exc:
            result.failures.append(SourceFailure(source, exc.message))
            return None

    def run_many(self, urls: list[str]) -> list[DiscoveryResult]:
        """One result per URL (a sighting's page, image and thumbnail addresses); URLs on
        one site are looked up once. A URL that is not a web address raises, before any
        look-up."""
        for url in urls:
            check_url(url)
        return [self.run(url) for url in urls]

    def run(self, url: str) -> DiscoveryResult:
        origin, host = check_url(url)
        if origin in self._by_origin:  # the recipients depend on the site, not the path
            seen = self._by_origin[origin]
            return replace(
                seen,
                url=url.strip(),
                addresses=list(seen.addresses),
                recipients=list(seen.recipients),
                failures=list(seen.failures),
            )
        result = self._discover(url, origin, host)
        self._by_origin[origin] = result
        return result

    def _discover(self, url: str, origin: str, host: str) -> DiscoveryResult:
        domain = site.registered_domain(host)
        result = DiscoveryResult(
            url=url.strip(), host=host, domain=domain, bootstrap=self.bootstrap.origin
        )
        # The three groups of sources ask different servers: run them side by side, each
        # recording into its own part so the result's order does not depend on timing.
        parts = [replace(result, failures=[], addresses=[]) for _ in range(3)]
        groups: list[tuple[str, Callable[[], list[Recipient]]]] = [
            ("site", lambda: self._site(parts[0], origin, host)),
            ("host", lambda: self._hosts(parts[1], host)),
            ("registrar", lambda: self._registrar(parts[2], domain, host)),
        ]
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            futures = [
                pool.submit(self._guarded, part, name, work)
                for part, (name, work) in zip(parts, groups, strict=True)
            ]
            found = [r for future in futures for r in future.result()]
        result.failures = [f for part in parts for f in part.failures]
        result.addresses, result.cdn = parts[1].addresses, parts[1].cdn
        result.recipients = ordered(found + search_engines.recipients())
        return result

    @staticmethod
    def _guarded(
        part: DiscoveryResult, name: str, work: Callable[[], list[Recipient]]
    ) -> list[Recipient]:
        """A bug met on hostile input costs that group of sources, never the discovery."""
        try:
            return work()
        except Exception:
            log.exception("takedown discovery: the %s sources failed unexpectedly", name)
            reason = "An unexpected problem stopped these sources; it has been logged."
            part.failures.append(SourceFailure(f"{name} sources", reason))
            return []

    def _site(self, result: DiscoveryResult, origin: str, host: str) -> list[Recipient]:
        found = [
            self._try(result, "security.txt", lambda: site.from_security_txt(self.fetcher, origin)),
            self._try(
                result, "contact pages", lambda: site.from_contact_pages(self.fetcher, origin)
            ),
        ]
        if result.domain:
            found.append(site.abuse_mailbox(host))
        return [r for r in found if r is not None]

    def _hosts(self, result: DiscoveryResult, host: str) -> list[Recipient]:
        addresses = self._try(result, f"DNS {host}", lambda: self.resolver.addresses(host)) or []
        result.addresses = [str(a) for a in addresses]
        found = []
        for address in _pick(addresses):
            provider = self.cdn_ranges.provider_for(address)
            if provider is not None:
                result.cdn = provider.name
                found.append(_cdn_recipient(provider, address))
                continue
            if str(address) not in self._by_address:
                self._by_address[str(address)] = self._host(address)
            recipient, failures = self._by_address[str(address)]
            if recipient is not None:
                found.append(recipient)
            result.failures.extend(failures)
        return found

    def _host(self, address: Any) -> tuple[Recipient | None, list[SourceFailure]]:
        source = f"host RDAP {address}"
        try:
            recipient, problems = registries.host(self.rdap, self.bootstrap, address)
        except DiscoveryError as exc:
            return None, [SourceFailure(source, exc.message)]
        return recipient, [SourceFailure(source, p) for p in problems]

    def _registrar(self, result: DiscoveryResult, domain: str | None, host: str) -> list[Recipient]:
        if not domain:
            reason = f"{host} is an address, not a domain name: there is no registrar to ask."
            result.failures.append(SourceFailure("registrar RDAP", reason))
            return []
        source = f"registrar RDAP {domain}"
        try:
            recipient, problems = registries.registrar(self.rdap, self.bootstrap, domain)
        except DiscoveryError as exc:
            result.failures.append(SourceFailure(source, exc.message))
            return []
        result.failures.extend(SourceFailure(source, p) for p in problems)
        return [recipient]


def _pick(addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> list[Any]:
    firsts: dict[int, Any] = {}
    for address in addresses:
        firsts.setdefault(address.version, address)
    return list(firsts.values())[:MAX_ADDRESSES]


def _cdn_recipient(provider: cdn.CdnProvider, address: Any) -> Recipient:
    return Recipient(
        role=RecipientRole.CDN, name=provider.name,
        source=f"{address} is in {provider.name}'s published ranges ({provider.source})",
        confidence=Confidence.MEDIUM, email=provider.abuse_email,
        web_form_url=provider.abuse_form_url,
        notes=("The origin host is hidden behind this CDN: its hosting provider cannot be "
               "found from the address.", *provider.notes),
    )  # fmt: skip


def ordered(recipients: list[Recipient]) -> list[Recipient]:
    """Each recipient once (by role and contact), in ladder order, sources in order."""
    seen: set[tuple[str, str | None, str | None]] = set()
    unique = []
    for r in recipients:
        key = (r.role.value, r.email and r.email.lower(), r.web_form_url)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return sorted(unique, key=lambda r: ROLE_ORDER.index(r.role))  # stable: sources in order


def discover_all(url: str, settings: Settings | None = None) -> DiscoveryResult:
    """Every recipient for ``url`` and every source that failed, with why."""
    with Discoverer(settings or load_settings()) as discoverer:
        return discoverer.run(url)


def discover(url: str, settings: Settings | None = None) -> list[Recipient]:
    """Everyone who can be asked to remove the copy at ``url``, each with source and confidence."""
    return discover_all(url, settings).recipients
