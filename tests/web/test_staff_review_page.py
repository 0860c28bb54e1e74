"""The review queue for possible matches found by the robust signal alone, over a real server:
oldest first, the signal and how close, addresses as text and never the image; confirm or
reject with a reason (refused without one, the typed reason kept); cross-site posts
refused; survivors and administrators kept out (the access table covers the roles)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import service
from chorus.cases.intake import IntakeAnswers
from chorus.evidence.keys import KeyRing
from chorus.evidence.models import LedgerEntry
from chorus.evidence.warc import Exchange, build_warc
from chorus.matching.identify import EntryMatch
from chorus.monitor import sightings
from chorus.monitor.models import Sighting
from chorus.monitor.sources.base import MediaRef
from chorus.store.base import utcnow
from chorus.store.session import transaction
from tests.web.server import running_server
from tests.web.staff_helpers import add_staff, csrf, server_settings, signed_in


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path) as base:
        yield base


def _held(session: Session, keyring: KeyRing, case: str, n: int, local: bool = False) -> str:
    """A copy matched by the robust signal (or the local one) alone, as the monitor records
    it (held)."""
    base = "https://board.example/b"
    ref = MediaRef(url=f"{base}/{1700000000000 + n}.jpg", page_url=f"{base}/thread/{n}",
                   post_id=str(n), thread=f"b/{n}")  # fmt: skip
    page = Exchange(ref.page_url, 200, "OK", [("Content-Type", "text/html")], b"<html>", utcnow())
    match = EntryMatch("be_missing", case, "robust", 20 + n, 44, frozenset({"robust"}))
    if local:
        match = EntryMatch("be_missing", case, "local", 40, 80, frozenset({"local"}), inliers=23)
    recorded = sightings.record(session, keyring, ref, match, lambda: build_warc([page]))
    assert recorded.held
    return recorded.sighting.public_id


def test_the_review_queue_confirms_and_rejects_with_a_reason(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    keyring = KeyRing(server_settings(database_url, tmp_path))
    with transaction(sessions) as session:
        case = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos")
        ).case_reference
        first, second = _held(session, keyring, case, 1), _held(session, keyring, case, 2)
    cw = signed_in(server, "r.cho", add_staff(database_url, tmp_path, "r.cho", "caseworker"))
    assert "2 possible matches to review" in cw.get("/staff").text
    page = cw.get("/staff/review")
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store")
    html = page.text
    assert "Possible matches to review (2)" in html
    assert html.index(first) < html.index(second)  # oldest first
    assert "<strong>robust</strong> signal, <strong>21</strong> bits" in html
    assert "<code>https://board.example/b/thread/1</code>" in html
    assert "<img" not in html and ".jpg" not in html  # never the image, not even its address
    assert f'href="/staff/cases/{case}"' in html
    token = csrf(html)

    no_reason = cw.post(f"/staff/review/{first}", data={"csrf_token": token, "decision": "confirm",
                                                       "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    foreign = cw.post(
        f"/staff/review/{first}",
        headers={"Origin": "https://evil.example"},
        data={"csrf_token": token, "decision": "confirm", "reason": "mine"},
    )
    assert foreign.status_code == 400
    typed = "It is a different photo of the same street."
    wrong = cw.post(f"/staff/review/{first}", data={"csrf_token": token, "decision": "maybe",
                                                   "reason": typed})  # fmt: skip
    assert wrong.status_code == 422 and typed in wrong.text  # what was typed comes back
    with transaction(sessions) as session:
        assert {s.review for s in session.scalars(select(Sighting))} == {"held"}

    confirmed = cw.post(
        f"/staff/review/{first}",
        data={"csrf_token": token, "decision": "confirm", "reason": "The survivor recognised it."},
    )
    assert confirmed.status_code == 303
    assert "It now counts for their case" in cw.get(confirmed.headers["location"]).text
    rejected = cw.post(f"/staff/review/{second}", data={
        "csrf_token": token, "decision": "reject", "reason": typed})  # fmt: skip
    assert rejected.status_code == 303
    after = cw.get(rejected.headers["location"]).text
    assert "Nothing is waiting for review" in after and "capture was discarded" in after
    again = cw.post(f"/staff/review/{first}", data={"csrf_token": token, "decision": "reject",
                                                   "reason": "changed my mind"})  # fmt: skip
    assert again.status_code == 422 and "already confirmed" in again.text
    with transaction(sessions) as session:
        states = dict(session.execute(select(Sighting.public_id, Sighting.review)).all())
        assert states == {first: "confirmed", second: "rejected"}
        actions = [str(a) for a in session.scalars(select(LedgerEntry.action))]
    assert "monitor:sighting:confirmed" in actions and "monitor:sighting:rejected" in actions
    assert re.search(r"possible match", cw.get("/staff").text) is None


def test_a_local_match_reads_as_corners_that_agree(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    keyring = KeyRing(server_settings(database_url, tmp_path))
    with transaction(sessions) as session:
        case = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos")
        ).case_reference
        _held(session, keyring, case, 1, local=True)
    cw = signed_in(server, "r.cho", add_staff(database_url, tmp_path, "r.cho", "caseworker"))
    html = cw.get("/staff/review").text
    assert "<strong>local</strong> signal: <strong>23</strong> corners of the photo agree" in html
    assert "bits of 256" not in html
