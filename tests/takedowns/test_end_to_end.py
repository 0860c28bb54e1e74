"""End to end on local fixtures: a copy posted on a 4chan-format board is found by the
monitor; a complete notice per regime is drafted; notices arrive at a real SMTP server; no
removal in time brings a re-notice; deleting the post (thumbnail included) is verified by
the monitor and closes the takedown; the photo posted again re-opens it at the new place.

Recipients are built directly here; discovery (RDAP, security.txt) is wired in at merge."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence import audit
from chorus.evidence.keys import KeyRing
from chorus.monitor import targets
from chorus.monitor.pipeline import Monitor
from chorus.security.policy import Actor
from chorus.store.session import transaction
from chorus.takedowns import progress, regimes, sending, service, tracking
from chorus.takedowns.notices import Choices

from ..monitor.board import Board, running
from ..monitor.test_board_monitor import due_now, jpeg, register
from .conftest import Inbox
from .fixtures import LADDER, SITE

CASE = "CH-E2E4-TEST"


def test_board_copy_to_verified_removal_renotice_and_reopening(
    sessions: sessionmaker[Session],
    settings: Settings,
    keyring: KeyRing,
    photos: list[Path],
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    register(sessions, photos[:1], owner=CASE)
    board = Board()
    post = board.post(None, jpeg(Image.open(photos[0]), quality=60), "a post")
    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/catalog.json", "4chan")
        monitor.run_once()  # the catalog
        found = monitor.run_once().sightings  # the thread
        assert len(found) == 1
        sid = found[0]

        # A takedown with the recipients discovery would give, and a notice per regime.
        with transaction(sessions) as session:
            takedown = service.open_takedown(session, sid, by=caseworker, candidates=LADDER)
            td = takedown.public_id
            made = {}
            for regime in regimes.all_regimes():
                choices = Choices(
                    signature="/s/ A. Caseworker, Example Helpline, authorised representative",
                    non_consent_confirmed=True,
                    accuracy_confirmed=True,
                    survivor_took_image=regime.id == "us-dmca-512c3",
                )
                view = service.draft(
                    session,
                    td,
                    by=caseworker,
                    regime=regime.id,
                    recipient=SITE,
                    notifier=service.notifier_from_settings(settings),
                    choices=choices,
                )
                assert view.missing == [], regime.id
                assert f"{base}/b/thread/{post.no}" in view.body
                assert f"{base}/b/{post.tim}.jpg" in view.body
                assert f"{base}/b/{post.tim}s.jpg" in view.body  # the thumbnail too
                made[regime.id] = view.public_id
        for regime_id in ("eu-dsa-art16", "us-take-it-down"):
            assert sending.send_email(
                sessions, keyring, settings, made[regime_id], by=caseworker
            ).sent_now
        assert [m["To"] for m in inbox.messages] == ["abuse@board.example"] * 2
        assert "TAKE IT DOWN" in inbox.messages[1]["Subject"]

        # Not removed within 24 h: re-notices go out (by email, as the notices did).
        with transaction(sessions) as session:
            due = max(n.due_at for n in service.get(session, td).notices if n.due_at)
        done = tracking.run_due(sessions, keyring, settings, due)
        assert len(done.renotices) == 2 and len(inbox.messages) == 4
        assert all(m["Subject"].startswith("Second request") for m in inbox.messages[2:])

        # The board deletes the post but keeps the thumbnail: not removed yet.
        board.delete(post.no)
        due_now(sessions)
        monitor.run_once()
        with transaction(sessions) as session:
            assert tracking.advance(session).removed == []
        board.purge_thumbnails()
        due_now(sessions)
        assert monitor.run_once().removed == [sid]
        with transaction(sessions) as session:
            assert tracking.advance(session).removed == [td]
            view = service.get(session, td)
            assert view.state == "removed"
            assert {n.state for n in view.notices} == {"removed", "withdrawn"}

        # The same photo posted again in another thread: the takedown re-opens there.
        again = board.post(None, jpeg(Image.open(photos[0]), quality=70), "again")
        due_now(sessions)
        monitor.run_once()
        due_now(sessions)
        new = monitor.run_once().sightings
        assert len(new) == 1
        with transaction(sessions) as session:
            done = tracking.advance(session)
            assert len(done.reopened) == 1
            reopened = service.get(session, done.reopened[0])
            assert reopened.sighting == new[0] and reopened.reopened_from == td
            assert {n.regime for n in reopened.notices} == {"eu-dsa-art16", "us-take-it-down"}
            assert all(n.state == "draft" and not n.missing for n in reopened.notices)
            assert all(f"{base}/b/thread/{again.no}" in n.body for n in reopened.notices)
            shown = progress.removal_progress(session, CASE)
            assert (shown.asked, shown.removed, shown.still_up) == (1, 1, 0)
            assert audit.verify_ledger(session, settings).ok
