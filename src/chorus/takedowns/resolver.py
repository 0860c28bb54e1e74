"""DNS for discovery: a real resolver (dnspython) whose name servers are a setting.

``CHORUS_TAKEDOWN_DNS_SERVERS`` empty means the system's resolver configuration; the tests
point it at a DNS server they run on 127.0.0.1. The same resolver feeds the fetcher, so
the site that is fetched is the site that was looked up.
"""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.inet
import dns.name
import dns.nameserver
import dns.resolver

from chorus.errors import DiscoveryError, FetchFailedError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_ADDRESSES = 8


def parse_server(text: str) -> dns.nameserver.Do53Nameserver:
    """``192.0.2.53``, ``192.0.2.53:5353``, ``2001:db8::53`` or ``[2001:db8::53]:5353``."""
    value = text.strip()
    host, port = value, 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 53
    elif value.count(":") == 1:
        host, _, tail = value.partition(":")
        if not tail.isdigit():
            raise DiscoveryError(f"The DNS server {text!r} has no valid port.")
        port = int(tail)
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise DiscoveryError(f"The DNS server {text!r} is not an IP address.") from exc
    if not 0 < port < 65536:
        raise DiscoveryError(f"The DNS server {text!r} has no valid port.")
    return dns.nameserver.Do53Nameserver(host, port)


class Resolver:
    """A and AAAA look-ups with a time limit; IP literals are answered as themselves."""

    def __init__(self, servers: list[str], timeout_s: float) -> None:
        try:
            self._resolver = dns.resolver.Resolver(configure=not servers)
        except dns.resolver.NoResolverConfiguration as exc:
            raise DiscoveryError(
                "This machine has no DNS configuration; set CHORUS_TAKEDOWN_DNS_SERVERS."
            ) from exc
        if servers:
            self._resolver.nameservers = [parse_server(s) for s in servers]
        self._resolver.lifetime = timeout_s
        self._resolver.timeout = timeout_s
        self._cache: dict[str, list[Address]] = {}

    def addresses(self, host: str) -> list[Address]:
        """The host's addresses (IPv4 first); DiscoveryError when the name does not resolve."""
        literal = host.strip("[]")
        try:
            return [ipaddress.ip_address(literal)]
        except ValueError:
            pass
        key = host.lower().rstrip(".")
        if key in self._cache:
            return self._cache[key]
        found: list[Address] = []
        problems: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._resolver.resolve(key, rdtype, raise_on_no_answer=False, search=False)
            except dns.resolver.NXDOMAIN:
                raise DiscoveryError(f"The name {key} does not exist in DNS.") from None
            except dns.exception.Timeout:
                problems.append(f"{rdtype}: no answer in time")
                continue
            except (dns.resolver.NoNameservers, dns.exception.DNSException) as exc:
                problems.append(f"{rdtype}: {type(exc).__name__}")
                continue
            for record in answer:
                found.append(ipaddress.ip_address(record.to_text()))
        if not found:
            detail = f" ({'; '.join(problems)})" if problems else ""
            raise DiscoveryError(f"The name {key} has no address in DNS{detail}.")
        found = found[:MAX_ADDRESSES]
        self._cache[key] = found
        return found

    def for_fetcher(self, host: str) -> list[str]:
        """The fetcher's resolver hook: the same answers, as FetchFailedError on failure."""
        try:
            return [str(a) for a in self.addresses(host)]
        except DiscoveryError as exc:
            raise FetchFailedError(exc.message) from exc
