"""Discovery wired into takedowns: find who can remove a takedown's copy, offer them.

For a takedown, every address that served the copy (read through the monitor's sighting
service) goes through :class:`~chorus.takedowns.discovery.Discoverer` (one look-up per
site). The recipients found, each with its source and how sure, become the takedown's
candidates (what the caseworker chooses from and what the escalation ladder climbs);
the sources that failed are kept beside them in plain words. Each run is a
:class:`TakedownDiscovery` row and a ledger event.

Discovery does network look-ups that can take seconds: :func:`find_recipients` reads the
addresses, looks them up without writing anything, then records the result, so nothing
is locked while it waits. ``tracking.run_due`` uses the same pieces for copies that come back
at a new address (looked up before it locks anything).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.config import Settings
from chorus.errors import ChorusError, TakedownError
from chorus.evidence.tags import EventTag
from chorus.monitor import sightings
from chorus.security.policy import Actor, Permission, require
from chorus.takedowns import notices, search_engines, service, states
from chorus.takedowns.discovery import Discoverer, DiscoveryResult, ordered
from chorus.takedowns.models import Takedown, TakedownDiscovery
from chorus.takedowns.recipient import Recipient
from chorus.takedowns.views import copy_urls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    host: str
    source: str
    reason: str


@dataclass(frozen=True)
class Found:
    """What a caseworker reads of the latest discovery for a takedown."""

    ran_at: datetime
    ran_by: str
    urls: list[str]
    recipients: list[Recipient]
    failures: list[Failure]
    cdn: str | None


def candidate_key(recipient: Recipient) -> str:
    """A stable key for one candidate, so a form choice cannot point at another one if
    the list changed in between."""
    text = "\x1f".join(
        [recipient.role.value, recipient.name, recipient.email or "", recipient.web_form_url or ""]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def addresses(session: Session, takedown_id: str) -> list[str]:
    """Every address that served the takedown's copy (page first)."""
    takedown = service.takedown_row(session, takedown_id)
    info = sightings.find(session, takedown.sighting)
    if info is None:
        raise TakedownError(f"The sighting of takedown {takedown_id} no longer exists.")
    return copy_urls(info)


def look_up(discoverer: Discoverer, urls: Sequence[str]) -> list[DiscoveryResult]:
    """Discovery for each address (one look-up per site); no database is touched."""
    return discoverer.run_many(list(urls))


def merged(results: Sequence[DiscoveryResult]) -> tuple[list[Recipient], list[Failure], str | None]:
    """Everyone found for any of the addresses (each once, in ladder order), every failure."""
    recipients = ordered([r for result in results for r in result.recipients])
    seen: set[tuple[str, str, str]] = set()
    failures: list[Failure] = []
    for result in results:
        for f in result.failures:
            key = (result.host, f.source, f.reason)
            if key not in seen:
                seen.add(key)
                failures.append(Failure(result.host, f.source, f.reason))
    cdn = next((r.cdn for r in results if r.cdn), None)
    return recipients, failures, cdn


def record(
    session: Session, takedown_id: str, results: Sequence[DiscoveryResult], *, by: Actor
) -> Found:
    """Keep a discovery run and offer its recipients as the takedown's candidates."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    takedown = service.takedown_row(session, takedown_id)
    if takedown.state == states.CLOSED:
        raise TakedownError(
            f"Takedown {takedown_id} was closed when the survivor's data was deleted."
        )
    recipients, failures, cdn = merged(results)
    row = TakedownDiscovery(
        takedown_id=takedown.id,
        urls=[r.url for r in results],
        recipients=[notices.recipient_snapshot(r) for r in recipients],
        failures=[{"host": f.host, "source": f.source, "reason": f.reason} for f in failures],
        cdn=cdn,
        ran_by=by.label,
    )
    session.add(row)
    if recipients:  # a run that found nobody keeps the candidates known before
        takedown.candidates = list(row.recipients)
    session.flush()
    service.record_event(session, EventTag.TAKEDOWN_RECIPIENTS_FOUND, by.label, takedown)
    return _found(row)


def find_recipients(
    session: Session, takedown_id: str, *, by: Actor, discoverer: Discoverer
) -> Found:
    """Run discovery on the takedown's copy and offer what it finds (see the module)."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    urls = addresses(session, takedown_id)
    return record(session, takedown_id, look_up(discoverer, urls), by=by)


def latest(session: Session, takedown_id: str) -> Found | None:
    takedown = service.takedown_row(session, takedown_id)
    row = session.scalar(
        select(TakedownDiscovery)
        .where(TakedownDiscovery.takedown_id == takedown.id)
        .order_by(TakedownDiscovery.id.desc())
        .limit(1)
    )
    return _found(row) if row is not None else None


def chosen_candidate(session: Session, takedown_id: str, key: str) -> Recipient:
    """The candidate a caseworker picked (by :func:`candidate_key`)."""
    takedown = service.takedown_row(session, takedown_id)
    for snapshot in takedown.candidates:
        recipient = notices.recipient_from(snapshot)
        if candidate_key(recipient) == key:
            return recipient
    raise TakedownError(
        "That recipient is no longer in the list (discovery may have run again). "
        "Please choose again."
    )


def _found(row: TakedownDiscovery) -> Found:
    return Found(
        ran_at=row.ran_at,
        ran_by=row.ran_by,
        urls=list(row.urls),
        recipients=[notices.recipient_from(r) for r in row.recipients],
        failures=[Failure(f["host"], f["source"], f["reason"]) for f in row.failures],
        cdn=row.cdn,
    )


def copies_to_discover(session: Session) -> dict[str, list[str]]:
    """Copies back at a new address with no takedown yet: page URL -> every address of the
    copy (for :func:`run_due` to look up before it locks anything)."""
    takedowns = {t.sighting: t for t in session.scalars(select(Takedown))}
    out: dict[str, list[str]] = {}
    for info in sightings.reappearances(session, list(takedowns)):
        earlier = takedowns.get(info.reappearance_of or "")
        if info.public_id in takedowns or info.state != sightings.PRESENT:
            continue
        if earlier is not None and earlier.state != states.CLOSED:
            out[info.page_url] = copy_urls(info)
    return out


def look_up_copies(
    settings: Settings, wanted: dict[str, list[str]], discoverer: Discoverer | None
) -> dict[str, list[DiscoveryResult]]:
    """Discovery for each copy's addresses; a copy whose look-up fails gets nothing (its
    takedown then uses the recipients asked last time)."""
    found: dict[str, list[DiscoveryResult]] = {}
    if not wanted:
        return found
    try:
        own = discoverer or Discoverer(settings)
    except ChorusError as exc:
        log.warning("recipient discovery is not available, earlier recipients are used: %s", exc)
        return found
    try:
        for page_url, urls in wanted.items():
            try:
                found[page_url] = look_up(own, urls)
            except ChorusError as exc:
                log.info("discovery for %s failed, earlier recipients are used: %s", page_url, exc)
    finally:
        if discoverer is None:
            own.close()
    return found


def delisting_for(
    session: Session,
    takedown_id: str,
    country: str,
    *,
    results_urls: Sequence[str] = (),
    minor_may_be_involved: bool = False,
) -> list[search_engines.DelistingPack]:
    """Google's and Bing's delisting packs for the takedown's copy: its page addresses and
    image addresses (full file and thumbnail). DiscoveryError, with the child-protection
    route, where the person shown may have been under 18."""
    takedown = service.takedown_row(session, takedown_id)
    info = sightings.find(session, takedown.sighting)
    if info is None:
        raise TakedownError(f"The sighting of takedown {takedown_id} no longer exists.")
    pages = [info.page_url] + [u for role, u, _s in info.urls if role == "page"]
    images = [u for role, u, _s in info.urls if role in ("media", "thumbnail")]
    return search_engines.delisting_packs(
        list(dict.fromkeys(pages)),
        images or [info.media_url],
        country,
        results_urls=[u for u in results_urls if u.strip()],
        minor_may_be_involved=minor_may_be_involved,
    )
