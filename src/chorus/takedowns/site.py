"""The site operator: security.txt, the contact and abuse pages it links, abuse@ its domain.

Each is its own source, so one failing (no security.txt, a home page that will not load)
never hides the others. ``abuse@`` the registered domain (RFC 2142) is a convention only
and is always offered last, with low confidence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from publicsuffixlist import PublicSuffixList

from chorus.errors import DiscoveryError, FetchFailedError, FetchRefusedError
from chorus.monitor.fetch import Fetcher
from chorus.takedowns import security_txt
from chorus.takedowns.rdap import email_address
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

MAX_PAGE_BYTES = 512 * 1024
#: Link words, best first: a page for abuse reports beats a general contact page.
PAGE_WORDS = (
    ("abuse", "report", "takedown", "removal", "dmca", "copyright"),
    ("contact", "impressum", "legal", "support", "help"),
)
EMAIL_WORDS = ("abuse", "report", "legal", "dmca", "takedown", "contact", "support", "admin")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The list shipped with the package (offline), its ICANN section only: for a site on a
    # platform's subdomain (someone.github.io) the registered domain is the platform's,
    # which is whose registrar and abuse@ mailbox can act.
    return PublicSuffixList(only_icann=True)


def registered_domain(host: str) -> str | None:
    """The domain a person registered (``board.example.co.uk`` -> ``example.co.uk``)."""
    name = host.lower().rstrip(".")
    if not name or re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", name):
        return None
    found = _psl().privatesuffix(name)
    return str(found) if found else None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and len(self.links) < 2000:
            self._href = dict(attrs).get("href") or None
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None and len(self._text) < 20:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href.strip(), " ".join(self._text).strip().lower()))
            self._href = None


def from_security_txt(fetcher: Fetcher, origin: str, now: datetime | None = None) -> Recipient:
    found = security_txt.fetch(fetcher, origin)
    now = now or datetime.now(UTC)
    notes = ["security.txt is meant for security reports; it is often the only contact a "
             "site publishes, so say plainly that this is a report of abuse."]  # fmt: skip
    confidence = Confidence.HIGH
    if found.expired(now):
        confidence = Confidence.MEDIUM
        notes.append(f"This file expired on {found.expires:%d %B %Y}; the contact may be "
                     "out of date.")  # fmt: skip
    if found.problems:
        confidence = Confidence.MEDIUM
        notes.append("The file does not fully follow RFC 9116: " + "; ".join(found.problems))
    if found.signed:
        notes.append("The file is PGP-signed; Chorus did not check the signature.")
    if found.canonical and found.url not in found.canonical:
        notes.append(f"The file says it belongs at {found.canonical[0]}, not where it was "
                     "found; it may have been copied from another site.")  # fmt: skip
    if found.policy:
        notes.append(f"The site's reporting policy: {found.policy[0]}")
    if found.languages:
        notes.append("Preferred languages: " + ", ".join(found.languages) + ".")
    return Recipient(
        role=RecipientRole.SITE, name=urlsplit(origin).hostname or origin,
        source=f"security.txt {found.url}", confidence=confidence,
        email=next(iter(found.emails), None), web_form_url=next(iter(found.web), None),
        phone=next(iter(found.phones), None), notes=tuple(notes),
    )  # fmt: skip


def from_contact_pages(fetcher: Fetcher, origin: str) -> Recipient:
    """The best contact or abuse page (and mailto address) linked from the home page."""
    home = origin + "/"
    try:
        got = fetcher.get(home, max_bytes=MAX_PAGE_BYTES)
    except (FetchFailedError, FetchRefusedError) as exc:
        raise DiscoveryError(f"The home page {home} could not be read: {exc.message}") from exc
    if got.status != 200:
        raise DiscoveryError(f"The home page {home} answered HTTP {got.status}.")
    parser = _Links()
    try:
        parser.feed(got.body.decode("utf-8", "replace"))
    except Exception as exc:  # html.parser is lenient; a hostile page must still not crash
        raise DiscoveryError(f"The home page {home} could not be read as HTML.") from exc
    site = registered_domain(urlsplit(got.url).hostname or "")
    pages: list[tuple[int, str]] = []
    emails: list[tuple[int, str]] = []
    for href, text in parser.links:
        lowered = href.lower()
        if lowered.startswith("mailto:"):
            address = email_address(href)
            if address is None:
                continue
            rank = next((i for i, w in enumerate(EMAIL_WORDS) if w in address.lower()), None)
            if rank is not None:
                emails.append((rank, address))
            continue
        absolute = urljoin(got.url, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or registered_domain(parts.hostname or "") != site:
            continue
        for rank, words in enumerate(PAGE_WORDS):
            if any(w in text or w in parts.path.lower() for w in words):
                pages.append((rank, absolute))
                break
    if not pages and not emails:
        raise DiscoveryError(f"The home page {home} links no contact or abuse page.")
    page = min(pages)[1] if pages else None
    email = min(emails)[1] if emails else None
    return Recipient(
        role=RecipientRole.SITE, name=urlsplit(origin).hostname or origin,
        source=f"contact links on {got.url}", confidence=Confidence.MEDIUM,
        email=email, web_form_url=page,
        notes=("Found by reading the site's home page; check the page is the site's own "
               "contact route before using it.",),
    )  # fmt: skip


def abuse_mailbox(host: str) -> Recipient:
    domain = registered_domain(host)
    if domain is None:
        raise DiscoveryError(f"{host} has no registered domain for an abuse@ address.")
    return Recipient(
        role=RecipientRole.SITE, name=domain, source=f"RFC 2142 convention: abuse@{domain}",
        confidence=Confidence.LOW, email=f"abuse@{domain}",
        notes=("abuse@ is a convention (RFC 2142), not a published address: it may not exist "
               "or may not be read.",),
    )  # fmt: skip
