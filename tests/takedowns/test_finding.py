"""Discovery wired into takedowns: a run is kept with its recipients (source, how sure)
and failed sources and offered as candidates; ``run_due`` (what ``chorus serve`` runs)
finds the recipients of a copy that came back at a new address, with real discovery
against the local DNS/RDAP/site lab, looked up before anything is locked."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import TakedownError
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction
from chorus.takedowns import finding, sending, service, tracking
from chorus.takedowns.notices import Choices
from chorus.takedowns.recipient import RecipientRole

from .discovery_lab import Lab
from .fixtures import SITE, set_gone
from .page_helpers import copy_in

CASE = "CH-FIND-TEST"


@pytest.fixture
def lab_settings(settings: Settings, lab: Lab) -> Settings:
    s = lab.settings
    return settings.model_copy(update={
        "takedown_dns_servers": s.takedown_dns_servers, "takedown_timeout_s": s.takedown_timeout_s,
        "takedown_rdap_bootstrap_dir": s.takedown_rdap_bootstrap_dir,
        "monitor_allowed_networks": ["127.0.0.0/8", "::1"]})  # fmt: skip


def test_a_run_is_kept_and_offered_and_a_stale_choice_is_refused(
    sessions: sessionmaker[Session], keyring: KeyRing, lab: Lab, caseworker: Actor
) -> None:
    with transaction(sessions) as session:
        sid = copy_in(session, keyring, CASE, lab.url("valid.test"), lab.url("gone.test", "/1.jpg"))
        td = service.open_takedown(session, sid, by=caseworker).public_id
        assert finding.latest(session, td) is None
        with lab.discoverer() as discoverer:
            found = finding.find_recipients(session, td, by=caseworker, discoverer=discoverer)
        assert found.urls[0] == lab.url("valid.test")
        emails = [r.email for r in found.recipients]
        assert "security@valid.test" in emails and "abuse@hosting.test" in emails
        assert emails.count("abuse@hosting.test") == 1  # both sites' host: listed once
        assert {r.role for r in found.recipients} >= {RecipientRole.SITE, RecipientRole.HOST,
                                                      RecipientRole.REGISTRAR}  # fmt: skip
        assert any(f.host == "gone.test" and "RDAP" in f.source for f in found.failures)
        assert finding.latest(session, td) == found
        view = service.get(session, td)
        assert view.candidates == found.recipients
        key = finding.candidate_key(found.recipients[0])
        assert finding.chosen_candidate(session, td, key) == found.recipients[0]
        with pytest.raises(TakedownError, match="no longer in the list"):
            finding.chosen_candidate(session, td, "0" * 16)
        with pytest.raises(TakedownError, match="No takedown"):
            finding.find_recipients(session, "TD-NOPE", by=caseworker, discoverer=discoverer)
        investigator = Actor(Role.INVESTIGATOR, "inv-1")
        with pytest.raises(Exception, match="does not let you"):
            finding.record(session, td, [], by=investigator)


def test_a_copy_back_at_a_new_address_gets_its_recipients_found(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    lab_settings: Settings,
    lab: Lab,
    caseworker: Actor,
) -> None:
    settings = lab_settings
    with transaction(sessions) as session:
        first = copy_in(session, keyring, CASE, lab.url("valid.test"),
                        lab.url("valid.test", "/9.jpg"), n=9, entry="be_9")  # fmt: skip
        td = service.open_takedown(session, first, by=caseworker, candidates=[SITE]).public_id
        notice = service.draft(
            session, td, by=caseworker, regime="england-wales", recipient=SITE,
            notifier=service.notifier_from_settings(settings),
            choices=Choices(non_consent_confirmed=True),
        ).public_id  # fmt: skip
        sending.mark_sent(session, keyring, settings, notice, by=caseworker, note="by hand")
        assert set_gone(session, keyring, first)
        assert tracking.advance(session).removed == [td]
        # The same photo posted on another site: the monitor links it to the removed copy.
        again = copy_in(session, keyring, CASE, lab.url("noabuse.test", "/b/thread/10"),
                        lab.url("noabuse.test", "/10.jpg"), n=10, entry="be_9")  # fmt: skip
    # As `chorus serve`'s job calls it: discovery made from the settings (the lab's DNS/RDAP).
    done = tracking.run_due(sessions, keyring, settings)
    (reopened,) = done.reopened
    with transaction(sessions) as session:
        view = service.get(session, reopened)
        assert view.sighting == again and view.reopened_from == td
        found = finding.latest(session, reopened)
        assert found is not None and found.ran_by == "system:takedown-tracker"
        hosts = [r for r in found.recipients if r.role == RecipientRole.HOST]
        assert [h.email for h in hosts] == ["abuse@quiet.test"]  # from the AS: no abuse entity
        assert any("no abuse contact" in f.reason for f in found.failures)
        assert view.candidates == found.recipients  # the ladder climbs the new recipients
        (redraft,) = view.notices  # and the recipient asked last time is asked again
        assert redraft.state == "draft" and redraft.recipient.name == SITE.name
        assert lab.url("noabuse.test", "/b/thread/10") in redraft.body


def test_without_discovery_the_earlier_recipients_are_used(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, caseworker: Actor
) -> None:
    with transaction(sessions) as session:
        first = copy_in(session, keyring, CASE, "https://board.example/b/thread/1",
                        "https://board.example/b/1.jpg", n=1, entry="be_1")  # fmt: skip
        td = service.open_takedown(session, first, by=caseworker, candidates=[SITE]).public_id
        set_gone(session, keyring, first)
        tracking.advance(session)
        copy_in(session, keyring, CASE, "https://mirror.example/b/thread/2",
                "https://mirror.example/b/2.jpg", n=2, entry="be_1")  # fmt: skip
    (reopened,) = tracking.run_due(sessions, keyring, settings, discover=False).reopened
    with transaction(sessions) as session:
        assert service.get(session, reopened).candidates == [SITE]
        assert finding.latest(session, reopened) is None
        assert service.get(session, reopened).reopened_from == td
