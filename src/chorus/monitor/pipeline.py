"""The monitor's loop: due targets -> media -> fingerprint -> bank lookup -> sightings.

Media that match nothing are fingerprinted and forgotten: only counters remain. A hostile
page, file or server is skipped with a logged reason and never stops the loop.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import alerts
from chorus.config import Settings
from chorus.errors import ChorusError, MonitorError
from chorus.evidence.keys import KeyRing
from chorus.evidence.warc import build_warc
from chorus.fingerprint import Fingerprint
from chorus.fingerprint.workers import HashingPool
from chorus.matching.identify import (
    EntryMatch,
    best_matches,
    pack_queries,
    queries_for,
    unpack_queries,
)
from chorus.matching.lookup import BankIndex
from chorus.monitor import sightings, sniff, targets
from chorus.monitor.fetch import Fetched, Fetcher, FetchPolicy
from chorus.monitor.models import MonitorCounter, MonitorTarget, Sighting
from chorus.monitor.politeness import HostSlots
from chorus.monitor.sources import KINDS, HtmlPage
from chorus.monitor.sources.base import MediaRef
from chorus.store.session import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Seen:
    queries: bytes  # the media's lookups, packed (identify.pack_queries): about 7 KB with
    # the local signal's feature sets (about 20 KB for a screenshot: three sets)
    bank_seq: int  # the bank's change number when it was last looked up


@dataclass
class RunReport:
    targets: int = 0
    media: int = 0
    sightings: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # of those, held for review (robust only)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy.allowing(
        settings.monitor_allowed_networks,
        min_interval_s=settings.monitor_request_interval_s,
        max_bytes=settings.fingerprint_max_bytes,
    )


class Monitor:
    """One monitor worker. Several may share a database: targets are claimed, not shared."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, worker: str | None = None
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.worker = worker or f"monitor-{os.getpid()}"
        self.keyring = KeyRing(settings)
        policy = fetch_policy(settings)
        slots = HostSlots(sessions, lease_s=policy.timeout_s + 10)  # longer than any request
        self.fetcher = Fetcher(policy, shared=slots)
        self.index = BankIndex(radius=settings.match_radius, keys=self.keyring)
        self.pool = HashingPool(1, limits=settings.fingerprint_limits())
        self._seen: OrderedDict[str, _Seen] = OrderedDict()  # media URL -> its lookups
        self._seen_limit = settings.monitor_seen_cache
        self._scratch = tempfile.TemporaryDirectory(prefix="chorus-monitor-")
        os.chmod(self._scratch.name, 0o700)

    def __enter__(self) -> Monitor:
        self.pool.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.close()
        self.fetcher.close()
        self._scratch.cleanup()

    # -- one pass --------------------------------------------------------------------------

    def run_once(self, *, recheck: bool = True) -> RunReport:
        report = RunReport()
        with transaction(self.sessions) as session:
            claimed = targets.claim_due(session, self.worker)
            self.index.sync(session)  # so media seen before can be compared with new entries
        for target_id in claimed:
            report.targets += 1
            self._check_target(target_id, report)
        if recheck:
            self._recheck(report)
        return report

    def _count(self, session: Session, name: str) -> None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(MonitorCounter).values(name=name, value=1)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["name"], set_={"value": MonitorCounter.value + 1}
            )
        )

    def _check_target(self, target_id: int, report: RunReport) -> None:
        with transaction(self.sessions) as session:
            target = session.get(MonitorTarget, target_id)
            assert target is not None
            url, kind, purpose = target.url, target.kind, target.purpose
            etag, modified = target.etag, target.last_modified
        status, error, fetched = None, None, None
        try:
            if purpose == targets.DISCOVERED and not self.fetcher.robots_allow(url):
                raise MonitorError("robots.txt asks not to fetch this page.")
            fetched = self.fetcher.get(url, etag=etag, last_modified=modified)
            status = fetched.status
            if fetched.status == 200:
                listing = KINDS[kind]().read(fetched)
                with transaction(self.sessions) as session:
                    for page in listing.pages:
                        targets.add(session, page, kind, purpose=targets.DISCOVERED,
                                    interval_s=self.settings.monitor_interval_s)  # fmt: skip
                for ref in listing.media:
                    self._process_media(ref, fetched, report)
        except ChorusError as exc:
            error = exc.message
            report.skipped.append(f"{url}: {exc.message}")
            log.info("monitor skipped %s: %s", url, exc.message)
        with transaction(self.sessions) as session:
            headers = fetched.headers if fetched and fetched.status == 200 else None
            targets.finish(
                session, target_id, status=status, error=error,
                etag=headers.get("etag") if headers else None,
                last_modified=headers.get("last-modified") if headers else None,
            )  # fmt: skip

    def _fingerprint(self, data: bytes) -> Fingerprint:
        fd, name = tempfile.mkstemp(dir=self._scratch.name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            [(_path, outcome)] = list(self.pool.map([name]))
        finally:
            Path(name).unlink(missing_ok=True)  # the media is forgotten at once
        if isinstance(outcome, ChorusError):
            raise outcome
        return outcome

    def _process_media(self, ref: MediaRef, page: Fetched, report: RunReport) -> None:
        """Fetch and fingerprint media once; look it up again only when the bank changed.

        What is remembered (in this process's memory only, bounded) is the fingerprint of
        each media URL, never the media: so a photo banked after the monitor first saw a
        copy is still found on the next pass, without fetching it again.
        """
        seen = self._seen.get(ref.url)
        if seen is not None:
            self._seen.move_to_end(ref.url)
            if seen.bank_seq == self.index.seq:
                return  # nothing new to compare it with
        media: Fetched | None = None
        if seen is None:
            try:
                media = self._fetch_image(ref.url)
                queries = queries_for(self._fingerprint(media.body))
            except ChorusError as exc:
                report.skipped.append(f"{ref.url}: {exc.message}")
                with transaction(self.sessions) as session:
                    self._count(session, "media_skipped")
                return
            report.media += 1
        else:
            queries = unpack_queries(seen.queries)

        try:
            with transaction(self.sessions) as session:
                if seen is None:
                    self._count(session, "media_fingerprinted")
                matches = best_matches(session, self.index, queries, actor=self.worker,
                                       endpoint="monitor")  # fmt: skip
            if matches and media is None:
                # Seen before the bank knew it: fetched again for evidence, outside any
                # transaction (the shared host gate writes to the database while it waits).
                media = self._fetch_image(ref.url)
            self._remember(ref.url, _Seen(pack_queries(queries), self.index.seq))
            if matches:
                assert media is not None
                self._record(ref, page, media, matches, report)
        except ChorusError as exc:
            self._seen.pop(ref.url, None)
            report.skipped.append(f"{ref.url}: {exc.message}")

    def _record(
        self, ref: MediaRef, page: Fetched, media: Fetched, matches: list[EntryMatch],
        report: RunReport,
    ) -> None:  # fmt: skip
        def capture() -> bytes:
            return build_warc([*page.exchanges, *media.exchanges])

        with transaction(self.sessions) as session:
            for match in matches:
                done = sightings.record(
                    session, self.keyring, ref, match, capture,
                    recheck_after_s=self.settings.monitor_recheck_interval_s,
                    max_capture_bytes=self.settings.evidence_max_capture_bytes,
                )  # fmt: skip
                if not (done.new or done.reappeared or done.confirmed):
                    continue
                report.sightings.append(done.sighting.public_id)
                text = f"{ref.text}\n{ref.context}"
                if done.held:  # kinds kept, alert raised only if a caseworker confirms
                    kinds = alerts.own_details_in(session, match.owner_id, text)
                    done.sighting.held_details = kinds or done.sighting.held_details
                    report.held.append(done.sighting.public_id)
                elif done.new or done.reappeared:
                    alerts.check_own_details(
                        session, self.keyring, match.owner_id, text,
                        sighting=done.sighting.public_id, by=sightings.MONITOR.label,
                    )  # fmt: skip

    def _fetch_image(self, url: str) -> Fetched:
        media = self.fetcher.get(url, max_bytes=self.settings.fingerprint_max_bytes)
        if media.status != 200 or sniff.sniff(media.body) != sniff.IMAGE:
            raise MonitorError("not an image (or not served)")
        return media

    def _remember(self, url: str, seen: _Seen) -> None:
        self._seen[url] = seen
        while len(self._seen) > self._seen_limit:
            self._seen.popitem(last=False)

    def forget(self, url: str) -> None:
        """Look at this media URL afresh next time (its sighting was removed)."""
        self._seen.pop(url, None)

    # -- re-checks -------------------------------------------------------------------------

    def _recheck(self, report: RunReport) -> None:
        with transaction(self.sessions) as session:
            due = sightings.due_for_recheck(session)
        for sighting_id in due:
            with transaction(self.sessions) as session:
                sighting = session.get(Sighting, sighting_id)
                assert sighting is not None
                rows = [(r.id, r.role, r.url) for r in sightings.urls(session, sighting)]
                served = {role: url for _id, role, url in rows if role in ("media", "thumbnail")}
                listed = select(MonitorTarget.url, MonitorTarget.kind).where(
                    MonitorTarget.url.in_([url for _id, _role, url in rows])
                )
                kinds = {url: kind for url, kind in session.execute(listed)}
            results = {}
            for row_id, role, url in rows:
                state = self._still_there(role, url, served, kinds.get(url))
                if state is not None:
                    results[row_id] = state
            with transaction(self.sessions) as session:
                sighting = session.get(Sighting, sighting_id)
                assert sighting is not None
                if sightings.apply_recheck(
                    session,
                    self.keyring,
                    sighting,
                    results,
                    recheck_after_s=self.settings.monitor_recheck_interval_s,
                ):
                    report.removed.append(sighting.public_id)
                    self.forget(sighting.media_url)

    def _still_there(
        self, role: str, url: str, served: dict[str, str], kind: str | None
    ) -> tuple[str, int | None] | None:
        """(present|removed, status) for one URL; None when it could not be checked now.

        ``served`` holds the sighting's media and thumbnail URLs; ``kind`` is the source kind
        when ``url`` is itself a monitor target (a thread's JSON, say).
        """
        try:
            got = self.fetcher.get(url)  # re-checks are of known copies: robots not applied
        except ChorusError:
            return None
        if got.status in (404, 410, 451):
            return sightings.REMOVED, got.status
        if got.status != 200:
            return None
        if role in ("media", "thumbnail"):
            present = sniff.sniff(got.body) == sniff.IMAGE
        else:  # page or API: does it still show the post?
            try:
                present = still_listed(got, served, kind)
            except ChorusError:
                return None  # an answer we cannot read (a challenge page, say) proves nothing
        return (sightings.PRESENT if present else sightings.REMOVED), got.status


def still_listed(page: Fetched, served: dict[str, str], kind: str | None) -> bool:
    """Whether a page or API answer still shows the media (or its thumbnail).

    A monitored URL is read by its own source, exactly as when the media was found. Any
    other page is read as HTML (img, srcset, links to media), and a mention of the media's
    whole path (``/b/1.jpg``, never ``/b/11.jpg``) counts too, so that a page never reads
    as removed while it still names the file.
    """
    wanted = set(served.values())
    if kind is not None and kind in KINDS and kind != HtmlPage.kind:
        return any(ref.url in wanted or ref.thumbnail_url in wanted
                   for ref in KINDS[kind]().read(page).media)  # fmt: skip
    if any(ref.url in wanted for ref in HtmlPage().read(page).media):
        return True
    for url in wanted:
        path = urlsplit(url).path
        if path and re.search(re.escape(path).encode() + rb"(?![\w.%-])", page.body):
            return True
    return False


def reset_claims(session: Session, worker: str) -> None:
    """Give back every claim of ``worker`` (a clean shutdown)."""
    session.execute(
        update(MonitorTarget)
        .where(MonitorTarget.claimed_by == worker)
        .values(claimed_by=None, claim_expires_at=None)
    )
