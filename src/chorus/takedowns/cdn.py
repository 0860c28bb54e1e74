"""CDNs and reverse proxies recognised by the address ranges they publish.

An address in a CDN's range means the copy is served through the CDN, and the host that
stores it (the origin) is hidden: the CDN is asked, through its abuse route, to act and to
say who the host is. The ranges are data (``data/cdn-ranges.json``), each with its source.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

from chorus.errors import DiscoveryError

SHIPPED = Path(__file__).parent / "data" / "cdn-ranges.json"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class CdnProvider:
    name: str
    source: str
    abuse_form_url: str | None
    abuse_email: str | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CdnRanges:
    """Ranges sorted by first address, per IP version, for a binary search per address.

    ``reach[i]`` is the highest last address of ranges ``0..i``, so the backwards walk
    stops as soon as no earlier range can contain the address (ranges may nest).
    """

    starts: dict[int, list[int]]
    ends: dict[int, list[tuple[int, CdnProvider]]]
    reach: dict[int, list[int]]

    def provider_for(self, address: Address) -> CdnProvider | None:
        """The provider whose published range holds ``address`` (the narrowest), or None."""
        value = int(address)
        starts, ends, reach = (self.starts.get(address.version, []),
                               self.ends.get(address.version, []),
                               self.reach.get(address.version, []))  # fmt: skip
        best: tuple[int, CdnProvider] | None = None
        i = bisect.bisect_right(starts, value) - 1
        while i >= 0 and reach[i] >= value:
            last, provider = ends[i]
            if value <= last and (best is None or last - starts[i] < best[0]):
                best = (last - starts[i], provider)
            i -= 1
        return best[1] if best else None


def parse(doc: object, origin: str) -> CdnRanges:
    if not isinstance(doc, dict) or not isinstance(doc.get("providers"), list):
        raise DiscoveryError(f"The CDN range file {origin} has no list of providers.")
    rows: list[tuple[int, int, int, CdnProvider]] = []
    try:
        for item in doc["providers"]:
            provider = CdnProvider(
                name=str(item["name"]),
                source=str(item["source"]),
                abuse_form_url=item.get("abuse_form_url"),
                abuse_email=item.get("abuse_email"),
                notes=tuple(str(n) for n in item.get("notes", ())),
            )
            for text in item["ranges"]:
                network = ipaddress.ip_network(text, strict=False)
                first, last = int(network.network_address), int(network.broadcast_address)
                rows.append((network.version, first, last, provider))
    except (KeyError, TypeError, ValueError) as exc:
        raise DiscoveryError(f"The CDN range file {origin} is malformed ({exc}).") from exc
    rows.sort(key=lambda r: (r[0], r[1], -r[2]))
    starts: dict[int, list[int]] = {4: [], 6: []}
    ends: dict[int, list[tuple[int, CdnProvider]]] = {4: [], 6: []}
    reach: dict[int, list[int]] = {4: [], 6: []}
    for version, first, last, provider in rows:
        starts[version].append(first)
        ends[version].append((last, provider))
        reach[version].append(max(last, reach[version][-1] if reach[version] else last))
    return CdnRanges(starts, ends, reach)


def load(path: Path | None = None) -> CdnRanges:
    where = path or SHIPPED
    try:
        doc = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DiscoveryError(f"The CDN range file {where} cannot be read.") from exc
    return parse(doc, str(where))
