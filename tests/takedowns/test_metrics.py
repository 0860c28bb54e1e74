"""Metrics: time to verified removal per recipient and per provider (median, p90), share
removed within 48 h, re-appearance rate; CSV and an SVG chart made on the server."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.takedowns import metrics, sending, service, tracking
from chorus.takedowns.models import Notice, Takedown
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

from .conftest import Inbox
from .fixtures import SITE, set_gone, sighting
from .test_sending import COMPLETE


def test_percentile_is_nearest_rank() -> None:
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([5.0], 90) == 5.0
    values = [float(v) for v in range(1, 11)]
    assert metrics.percentile(values, 50) == 5.0
    assert metrics.percentile(values, 90) == 9.0
    assert metrics.percentile(values, 100) == 10.0


def _copy(
    session: Session,
    keyring: KeyRing,
    settings: Settings,
    by: Actor,
    *,
    n: int,
    host: str,
    hours_ago: float,
    recipient: Recipient = SITE,
) -> tuple[str, str]:
    sid = sighting(session, keyring, n=n, host=host, entry=f"be_{n}")
    takedown = service.open_takedown(session, sid, by=by)
    notice = service.draft(
        session,
        takedown.public_id,
        by=by,
        regime="england-wales",
        recipient=recipient,
        notifier=service.notifier_from_settings(settings),
        choices=COMPLETE,
    )
    sending.mark_sent(session, keyring, settings, notice.public_id, by=by, note="by hand")
    session.execute(
        update(Notice)
        .where(Notice.public_id == notice.public_id)
        .values(sent_at=utcnow() - timedelta(hours=hours_ago))
    )
    return sid, takedown.public_id


def test_times_shares_and_reappearance(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    evil = Recipient(
        RecipientRole.SITE, '=HYPERLINK("x")', "test", Confidence.LOW, email="a@other.example"
    )
    with transaction(sessions) as session:
        fast, _ = _copy(
            session, keyring, settings, caseworker, n=1, host="board.example", hours_ago=10
        )
        slow, _ = _copy(
            session, keyring, settings, caseworker, n=2, host="board.example", hours_ago=60
        )
        _copy(
            session,
            keyring,
            settings,
            caseworker,
            n=3,
            host="other.example",
            hours_ago=5,
            recipient=evil,
        )
        for sid in (fast, slow):
            set_gone(session, keyring, sid)
        tracking.advance(session)
        sighting(session, keyring, n=4, host="mirror.example", entry="be_1")  # fast came back
        tracking.advance(session)
        summary = metrics.compute(session)
    rows = {(r.group, r.name): r for r in summary.rows}
    site = rows[("recipient", "Board Example")]
    assert (site.notified, site.removed) == (2, 2)
    assert round(site.median_h or 0) == 10 and round(site.p90_h or 0) == 60
    assert site.within_48h == 0.5
    assert rows[("provider", "board.example")].removed == 2
    other = rows[("provider", "other.example")]
    assert (other.notified, other.removed, other.median_h) == (1, 0, None)
    assert (summary.notified, summary.removed) == (3, 2)  # the re-opened copy: not sent yet
    assert summary.within_48h is not None and abs(summary.within_48h - 1 / 3) < 1e-9
    assert summary.reappearance_rate == 0.5

    table = list(csv.reader(io.StringIO(metrics.to_csv(summary))))
    assert table[0][:4] == ["group", "name", "copies_notified", "copies_removed"]
    board = next(row for row in table if row[:2] == ["recipient", "Board Example"])
    assert board[2:4] == ["2", "2"] and board[6] == "0.500"
    assert round(float(board[4])) == 10 and round(float(board[5])) == 60
    assert table[-1] == ["all", "reappearance_rate", "", "", "", "", "0.500"]
    assert any(row[1].startswith("'=") for row in table)  # no formula from a recipient's name

    svg = metrics.to_svg(summary)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg")
    assert "Board Example" in svg and "48 h" in svg and "<script" not in svg
    assert "not removed yet" in svg
    assert ET.fromstring(metrics.to_svg(metrics.Summary([], 0, 0, None, None, None, None)))


def test_an_empty_store_has_empty_metrics(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        summary = metrics.compute(session)
        assert session.scalars(select(Takedown)).first() is None
    assert summary.rows == [] and summary.reappearance_rate is None
    assert "No notices sent yet" in metrics.to_svg(summary)
