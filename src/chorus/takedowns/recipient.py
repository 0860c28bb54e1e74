"""Who can be asked to remove a copy: the types that discovery produces and notices use."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RecipientRole(StrEnum):
    """Where a recipient sits between the copy and the internet; also the escalation order."""

    SITE = "site"  # the site's operator (security.txt, contact page, abuse@ the domain)
    HOST = "host"  # the hosting provider of the site's IP address (RDAP abuse contact)
    REGISTRAR = "registrar"  # the domain's registrar (domain RDAP abuse contact)
    CDN = "cdn"  # a CDN or reverse proxy in front of the site (the origin host is hidden)
    SEARCH_ENGINE = "search_engine"  # delisting (Google, Bing)
    REGULATOR = "regulator"  # the regulator's reporting route, last on the ladder


#: The escalation ladder: when one step does not remove the copy, the next is proposed.
ESCALATION_ORDER: tuple[RecipientRole, ...] = (
    RecipientRole.SITE,
    RecipientRole.HOST,
    RecipientRole.REGISTRAR,
    RecipientRole.CDN,
    RecipientRole.REGULATOR,
)


class Confidence(StrEnum):
    """How sure discovery is that this recipient can act on the copy."""

    HIGH = "high"  # published for this purpose (security.txt, an RDAP abuse entity)
    MEDIUM = "medium"  # found indirectly (a registrar's general contact, a known CDN range)
    LOW = "low"  # a convention only (abuse@ the domain, RFC 2142)


@dataclass(frozen=True)
class Recipient:
    """One party that can be asked to remove a copy, and how to reach them."""

    role: RecipientRole
    name: str
    #: What was looked up and where, e.g. "RDAP https://rdap.example/ip/192.0.2.1".
    source: str
    confidence: Confidence
    email: str | None = None
    web_form_url: str | None = None
    phone: str | None = None
    #: Plain notes for the caseworker ("the origin host is hidden behind this CDN").
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.web_form_url)
