"""RDAP look-ups (RFC 9082 queries, RFC 9083 responses) through Chorus's guarded fetcher.

Only what discovery needs is read: an object's name and handle, its entities by role, each
entity's jCard (RFC 7095) name, email and telephone, an IP network's range and origin AS
when the server gives it (ARIN's ``arin_originas0`` extension), and ``related`` links to a
registrar's own RDAP service. Everything else is ignored; anything malformed or oversized is
a :class:`DiscoveryError` naming the URL, so discovery can move on to the next source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

from chorus.errors import DiscoveryError, FetchFailedError, FetchRefusedError
from chorus.monitor.fetch import Fetcher

#: RFC 7480 s4.2: ask for RDAP JSON (plain JSON as a fallback).
ACCEPT = "application/rdap+json, application/json;q=0.9"
MAX_ENTITY_DEPTH = 4
MAX_REFERRALS = 3


@dataclass(frozen=True)
class Contact:
    """What an entity's jCard says about how to reach it."""

    handle: str | None
    roles: tuple[str, ...]
    name: str | None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    iana_id: str | None = None
    self_url: str | None = None


@dataclass
class RdapObject:
    """One RDAP response, reduced to what discovery uses; ``url`` is where it came from."""

    url: str
    object_class: str
    handle: str | None
    name: str | None
    contacts: list[Contact] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    origin_asns: list[int] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    country: str | None = None
    #: For an entity object: its own jCard.
    own: Contact | None = None

    def with_role(self, role: str) -> list[Contact]:
        return [c for c in self.contacts if role in c.roles]


def clean(text: str, limit: int = 300) -> str:
    """Remote text made safe to show: control characters (terminal escapes) become spaces."""
    shown = "".join(" " if ord(ch) < 32 or 127 <= ord(ch) < 160 else ch for ch in text)
    return shown.strip()[:limit]


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return clean(value) or None
    if isinstance(value, list):  # structured jCard values (e.g. "n") are lists
        parts = [p for p in value if isinstance(p, str) and p.strip()]
        return clean(" ".join(parts)) or None if parts else None
    return None


def email_address(value: str) -> str | None:
    """A plausible email address from ``value`` (``mailto:`` allowed), else None."""
    email = value.removeprefix("mailto:").split("?", 1)[0].strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or any(c.isspace() or ord(c) < 32 or c in '<>,;"' for c in email)
    ):
        return None
    return email[:254]


def phone_number(value: str) -> str | None:
    """A plausible phone number from ``value`` (``tel:`` allowed), else None."""
    phone = value.removeprefix("tel:").split(";", 1)[0].strip()
    digits = sum(ch.isdigit() for ch in phone)
    return phone[:40] if 5 <= digits <= 20 else None


def read_vcard(vcard: object) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """(name, emails, phones) from a jCard ``["vcard", [[name, params, type, value], ...]]``."""
    if not (isinstance(vcard, list) and len(vcard) == 2 and isinstance(vcard[1], list)):
        return None, (), ()
    name = org = None
    emails: list[str] = []
    phones: list[str] = []
    for prop in vcard[1]:
        if not (isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str)):
            continue
        key, value = prop[0].lower(), prop[3]
        if key == "fn":
            name = _text(value) or name
        elif key == "org":
            org = _text(value) or org
        elif key == "email" and isinstance(value, str) and (email := email_address(value)):
            emails.append(email)
        elif key == "tel" and isinstance(value, str) and (phone := phone_number(value)):
            phones.append(phone)
    return org or name, tuple(dict.fromkeys(emails)), tuple(dict.fromkeys(phones))


def _links(doc: dict[str, Any], rel: str) -> list[str]:
    out = []
    for link in doc.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == rel and isinstance(link.get("href"), str):
            out.append(link["href"])
    return out


def _walk_entities(doc: dict[str, Any], depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth >= MAX_ENTITY_DEPTH:
        return
    for entity in doc.get("entities") or []:
        if isinstance(entity, dict):
            yield entity
            yield from _walk_entities(entity, depth + 1)


def _contact(entity: dict[str, Any]) -> Contact:
    name, emails, phones = read_vcard(entity.get("vcardArray"))
    roles = tuple(r.lower() for r in entity.get("roles") or [] if isinstance(r, str))
    iana_id = None
    for public in entity.get("publicIds") or []:
        if isinstance(public, dict) and "iana" in str(public.get("type", "")).lower():
            iana_id = _text(public.get("identifier"))
    self_links = _links(entity, "self")
    return Contact(_text(entity.get("handle")), roles, name, emails, phones, iana_id,
                   self_links[0] if self_links else None)  # fmt: skip


def reduce(doc: object, url: str) -> RdapObject:
    """An :class:`RdapObject` from a decoded response; DiscoveryError if it is not one."""
    if not isinstance(doc, dict):
        raise DiscoveryError(f"The RDAP answer from {url} is not an RDAP object.")
    if "errorCode" in doc and "objectClassName" not in doc:
        raise DiscoveryError(f"The RDAP service at {url} answered error {doc['errorCode']}.")
    object_class = doc.get("objectClassName")
    if not isinstance(object_class, str):
        raise DiscoveryError(f"The RDAP answer from {url} has no objectClassName.")
    origins = doc.get("arin_originas0_originautnums") or []
    return RdapObject(
        url=url,
        object_class=object_class,
        handle=_text(doc.get("handle")),
        name=_text(doc.get("name")) or _text(doc.get("ldhName")),
        contacts=[_contact(e) for e in _walk_entities(doc)],
        related=[urljoin(url, h) for h in _links(doc, "related")],
        origin_asns=[int(a) for a in origins if isinstance(a, int | str) and str(a).isdigit()],
        start=_text(doc.get("startAddress")),
        end=_text(doc.get("endAddress")),
        country=_text(doc.get("country")),
        own=_contact(doc) if object_class == "entity" else None,
    )


class RdapClient:
    """Fetches RDAP objects with the fetcher's limits (size, time, redirects, SSRF guard)."""

    def __init__(self, fetcher: Fetcher, max_bytes: int) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes

    def get(self, url: str) -> RdapObject:
        try:
            got = self.fetcher.get(url, max_bytes=self.max_bytes, accept=ACCEPT)
        except (FetchFailedError, FetchRefusedError) as exc:
            raise DiscoveryError(f"RDAP {url}: {exc.message}") from exc
        if got.status == 404:
            raise DiscoveryError(f"RDAP {url}: not found (HTTP 404).")
        if got.status == 429:
            raise DiscoveryError(f"RDAP {url}: the service asks us to slow down (HTTP 429).")
        if got.status != 200:
            raise DiscoveryError(f"RDAP {url}: HTTP {got.status}.")
        try:
            doc = json.loads(got.body)
        except ValueError as exc:
            raise DiscoveryError(f"RDAP {url}: the answer is not valid JSON.") from exc
        return reduce(doc, got.url)

    def query(self, bases: tuple[str, ...], path: str) -> RdapObject:
        """Ask each service of the bootstrap in turn; the first good answer wins."""
        if not bases:
            raise DiscoveryError(
                f"No RDAP service is known for {path} in the bootstrap in use. If it is the "
                "snapshot shipped with Chorus, `chorus takedown refresh-bootstrap` fetches "
                "IANA's full list; some country domains have no RDAP service at all."
            )
        problems = []
        for base in bases:
            try:
                return self.get(base + path)
            except DiscoveryError as exc:
                problems.append(exc.message)
        raise DiscoveryError("; ".join(problems))

    def domain(self, bases: tuple[str, ...], name: str) -> tuple[list[RdapObject], list[str]]:
        """The registry's answer for a domain, then each registrar referral (``related``),
        and what went wrong with referrals.

        Referrals are followed at most :data:`MAX_REFERRALS` deep and never to a URL seen
        before, so a loop of ``related`` links ends (and is reported). A referral that
        fails is reported and skipped: the registry's answer still stands.
        """
        first = self.query(bases, "domain/" + quote(name.lower().rstrip("."), safe=".-"))
        chain, seen, problems = [first], {first.url}, []
        queue = list(first.related)
        while queue:
            href = queue.pop(0)
            if href in seen:
                problems.append(f"RDAP referral loop: {href} points back to an answer seen.")
                continue
            if len(chain) > MAX_REFERRALS:
                problems.append(f"RDAP referrals stopped after {MAX_REFERRALS}: {href}.")
                break
            seen.add(href)
            try:
                answer = self.get(href)
            except DiscoveryError as exc:
                problems.append(exc.message)
                continue
            seen.add(answer.url)
            chain.append(answer)
            queue.extend(answer.related)
        return chain, problems

    def fill(self, contact: Contact) -> Contact:
        """An entity given only by handle and link: fetch it once for its jCard."""
        if contact.emails or not contact.self_url:
            return contact
        own = self.get(contact.self_url).own
        if own is None:
            return contact
        return Contact(contact.handle, contact.roles, own.name or contact.name, own.emails,
                       own.phones, contact.iana_id or own.iana_id)  # fmt: skip
