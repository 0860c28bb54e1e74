"""Tracking: removal only when the monitor's re-checks say every URL is gone; a re-notice
after 24 h; then each rung of the ladder proposed with its reason and approved by a person;
a copy that comes back re-opens its takedown."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence import audit, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor
from chorus.store.session import transaction
from chorus.takedowns import progress, sending, service, tracking
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

from .conftest import Inbox
from .fixtures import HOST, LADDER, SITE, set_gone, sighting
from .test_sending import COMPLETE

DAY = timedelta(hours=24, minutes=1)


def open_and_send(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    by: Actor,
    *,
    candidates: list[Recipient] = LADDER,
    entry: str = "be_1",
) -> tuple[str, str, str]:
    with transaction(sessions) as session:
        sid = sighting(session, keyring, entry=entry)
        takedown = service.open_takedown(session, sid, by=by, candidates=candidates)
        notice = service.draft(
            session,
            takedown.public_id,
            by=by,
            regime="england-wales",
            recipient=SITE,
            notifier=service.notifier_from_settings(settings),
            choices=COMPLETE,
        )
    sending.send_email(sessions, keyring, settings, notice.public_id, by=by)
    return sid, takedown.public_id, notice.public_id


def actions(sessions: sessionmaker[Session]) -> list[str]:
    with transaction(sessions) as session:
        size, _ = ledger.head(session)
        return [e.fields["action"] for e in ledger.entries(session, range(size))]


def test_removal_is_decided_by_the_monitor_not_by_the_recipient(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    sid, td, notice = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        service.record_answer(
            session, notice, "acknowledged", by=caseworker, note="the site replied: 'removed'"
        )
        assert tracking.advance(session).removed == []
        assert service.get(session, td).state == "open"  # their word is not enough
        set_gone(session, keyring, sid, roles={"page", "media", "api"})  # thumbnail still up
        assert tracking.advance(session).removed == []
        assert set_gone(session, keyring, sid)
        assert tracking.advance(session).removed == [td]
        view = service.get(session, td)
        assert view.state == "removed" and view.removed_at is not None
        assert view.notices[0].state == "removed"
        shown = progress.removal_progress(session, view.case_ref)
        assert (shown.asked, shown.removed, shown.still_up) == (1, 1, 0)
        assert "1 copy is now gone" in " ".join(shown.words)
        assert audit.verify_ledger(session, settings).ok
    assert EventTag.TAKEDOWN_REMOVAL_VERIFIED in actions(sessions)


def test_renotice_then_each_rung_proposed_and_approved(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    _sid, td, first = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        first_due = service.get(session, td).notices[0].due_at
    assert first_due is not None
    # Not yet due: nothing happens.
    early = first_due - timedelta(minutes=1)
    assert tracking.run_due(sessions, keyring, settings, early).renotices == []
    # 24 h without removal: a re-notice, emailed like the first notice was.
    done = tracking.run_due(sessions, keyring, settings, first_due)
    assert len(done.renotices) == 1 and not done.proposals
    assert len(inbox.messages) == 2
    assert inbox.messages[1]["Subject"].startswith("Second request:")
    assert "still online" in inbox.messages[1].get_payload(decode=True).decode()
    with transaction(sessions) as session:
        view = service.get(session, td)
        assert [n.state for n in view.notices] == ["no_response", "sent"]
        assert view.notices[1].renotice_of == first
    # Running again at the same time sends no second re-notice.
    again = tracking.run_due(sessions, keyring, settings, first_due)
    assert again.renotices == [] and again.proposals == []
    assert len(inbox.messages) == 2
    # 24 h after the re-notice: the host is proposed, with the reason; nothing is sent.
    with transaction(sessions) as session:
        renotice_due = service.get(session, td).notices[1].due_at
        assert renotice_due is not None
        done = tracking.advance(session, renotice_due + timedelta(seconds=1))
        assert len(done.proposals) == 1
        proposal = service.get(session, td).proposals[0]
        assert proposal.role == "host" and proposal.recipient == HOST
        assert "has not removed it after a notice and a re-notice" in proposal.reason
        assert "Example Hosting Ltd" in proposal.reason and "RDAP" in proposal.reason
        assert tracking.advance(session, renotice_due + DAY).proposals == []
    assert len(inbox.messages) == 2
    with transaction(sessions) as session:
        made = service.decide_escalation(
            session, proposal.public_id, approve=True, by=caseworker, why="the site ignores us"
        )
        assert made.state == "approved" and made.notice
        view = service.get(session, td)
        assert view.notices[1].state == "escalated"
        host_notice = view.notices[2]
        assert host_notice.recipient == HOST and host_notice.state == "draft"
        assert host_notice.missing == []
    sending.send_email(sessions, keyring, settings, host_notice.public_id, by=caseworker)
    assert inbox.envelopes[-1][1] == ["abuse@hosting.example"]
    for tag in (
        EventTag.NOTICE_RENOTICED,
        EventTag.ESCALATION_PROPOSED,
        EventTag.ESCALATION_APPROVED,
    ):
        assert tag in actions(sessions)


def test_a_refusal_proposes_the_next_rung_and_missing_rungs_are_named(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    _sid, td, notice = open_and_send(sessions, keyring, settings, caseworker, candidates=[SITE])
    with transaction(sessions) as session:
        service.record_answer(
            session, notice, "refused", by=caseworker, note="they say it is allowed on their site"
        )
        done = tracking.advance(session)
        proposal = service.get(session, td).proposals[0]
        assert done.proposals == [proposal.public_id]
        assert proposal.role == "regulator" and proposal.recipient is None
        assert "refused to remove it" in proposal.reason
        assert "No contact is known for the hosting provider" in proposal.reason
        assert "Ofcom" in proposal.reason
        import pytest

        from chorus.errors import TakedownError

        with pytest.raises(TakedownError, match="add their email address or web form"):
            service.decide_escalation(
                session, proposal.public_id, approve=True, by=caseworker, why="go on"
            )
        ofcom = Recipient(
            RecipientRole.REGULATOR,
            "Ofcom",
            "caseworker",
            Confidence.HIGH,
            web_form_url="https://www.ofcom.org.uk/",
        )
        made = service.decide_escalation(
            session, proposal.public_id, approve=True, by=caseworker, why="go on", recipient=ofcom
        )
        assert service.get(session, td).notices[-1].recipient == ofcom and made.notice


def test_declining_an_escalation_is_kept_with_the_reason(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    _sid, td, notice = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        service.record_answer(session, notice, "refused", by=caseworker, note="refused")
        tracking.advance(session)
        proposal = service.get(session, td).proposals[0]
        service.decide_escalation(
            session,
            proposal.public_id,
            approve=False,
            by=caseworker,
            why="the survivor asked us to wait",
        )
        view = service.get(session, td)
        assert view.proposals[0].state == "declined"
        assert any(
            h.to_state == "declined"
            and h.why == "the survivor asked us to wait"
            and h.by == caseworker.label
            for h in view.history
        )


def test_reappearance_reopens_the_takedown_at_the_new_location(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    sid, td, _notice = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        set_gone(session, keyring, sid)
        tracking.advance(session)
        # The monitor finds the same image at a new address: linked by reappearance_of.
        new_sid = sighting(session, keyring, n=2, host="mirror.example")
        done = tracking.advance(session)
        assert len(done.reopened) == 1
        views = service.for_case(session, "CH-AAAA-BBBB")
        assert [v.state for v in views] == ["removed", "open"]
        reopened = views[1]
        assert reopened.sighting == new_sid and reopened.reopened_from == td
        assert [n.state for n in reopened.notices] == ["draft"]
        assert reopened.notices[0].recipient == SITE and reopened.notices[0].missing == []
        assert "https://mirror.example/b/thread/2" in reopened.notices[0].body
        assert tracking.advance(session).reopened == []  # once only
        shown = progress.removal_progress(session, "CH-AAAA-BBBB")
        assert (shown.asked, shown.removed) == (1, 1)
    assert EventTag.TAKEDOWN_REOPENED in actions(sessions)


def test_back_at_the_same_address_reopens_the_same_takedown(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    from chorus.matching.identify import EntryMatch
    from chorus.monitor import sightings as monitor_sightings
    from chorus.monitor.sources.base import MediaRef

    sid, td, _notice = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        set_gone(session, keyring, sid)
        tracking.advance(session)
        info = monitor_sightings.find(session, sid)
        assert info is not None
        ref = MediaRef(url=info.media_url, page_url=info.page_url)
        again = monitor_sightings.record(
            session, keyring, ref, EntryMatch("be_1", "CH-AAAA-BBBB", "pdq", 4, 31), lambda: b""
        )
        assert again.reappeared and again.sighting.public_id == sid
        done = tracking.advance(session)
        assert done.reopened == [td]
        view = service.get(session, td)
        assert view.state == "open" and view.notices[-1].state == "draft"
        assert [h.to_state for h in view.history if h.subject == td] == ["open", "removed", "open"]
