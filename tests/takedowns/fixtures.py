"""Sightings made through the monitor's service, and recipients built directly (the
discovery engineer's ``discover(url)`` is wired in by the lead)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.evidence.keys import KeyRing
from chorus.evidence.warc import Exchange, build_warc
from chorus.matching.identify import EntryMatch
from chorus.monitor import sightings
from chorus.monitor.models import Sighting
from chorus.monitor.sources.base import MediaRef
from chorus.store.base import utcnow
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

SITE = Recipient(
    RecipientRole.SITE,
    "Board Example",
    "security.txt https://board.example/.well-known/security.txt",
    Confidence.HIGH,
    email="abuse@board.example",
)
HOST = Recipient(
    RecipientRole.HOST,
    "Example Hosting Ltd",
    "RDAP https://rdap.example/ip/192.0.2.10",
    Confidence.HIGH,
    email="abuse@hosting.example",
)
REGISTRAR = Recipient(
    RecipientRole.REGISTRAR,
    "Example Registrar",
    "RDAP https://rdap.example/domain/board.example",
    Confidence.HIGH,
    email="abuse@registrar.example",
)
CDN = Recipient(
    RecipientRole.CDN,
    "Example CDN",
    "IP range 198.51.100.0/24",
    Confidence.MEDIUM,
    web_form_url="https://cdn.example/abuse",
    notes=("The origin host is hidden behind this CDN.",),
)
LADDER = [SITE, HOST, REGISTRAR, CDN]


def _warc(url: str) -> bytes:
    page = Exchange(url, 200, "OK", [("Content-Type", "text/html")], b"<html></html>", utcnow())
    return build_warc([page])


def sighting(
    session: Session,
    keyring: KeyRing,
    *,
    case: str = "CH-AAAA-BBBB",
    n: int = 1,
    host: str = "board.example",
    entry: str = "be_1",
) -> str:
    base = f"https://{host}/b"
    ref = MediaRef(
        url=f"{base}/{1700000000000 + n}.jpg",
        page_url=f"{base}/thread/{n}",
        thumbnail_url=f"{base}/{1700000000000 + n}s.jpg",
        api_url=f"{base}/thread/{n}.json",
        post_id=str(n),
        thread=f"b/{n}",
    )
    match = EntryMatch(entry, case, "pdq", 4, 31)
    recorded = sightings.record(session, keyring, ref, match, lambda: _warc(ref.page_url))
    return recorded.sighting.public_id


def set_gone(
    session: Session, keyring: KeyRing, sighting_id: str, *, roles: set[str] | None = None
) -> bool:
    """As the monitor's re-check would: these URLs (all by default) answered 404."""
    row = session.scalar(select(Sighting).where(Sighting.public_id == sighting_id))
    assert row is not None
    results = {
        u.id: ("removed", 404)
        for u in sightings.urls(session, row)
        if roles is None or u.role in roles
    }
    return sightings.apply_recheck(session, keyring, row, results)
