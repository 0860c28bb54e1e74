"""The caseworker's case page over a real server: the named contact and its history, assigning
one, closing / transferring / reopening with a reason and a contact, the messages with the
survivor, a reopen request first in the queue, calls to make for survivors who chose phone;
every form refuses cross-site posts, and a refusal keeps what was typed. The investigators'
common connections on the series page: counts only, the viewing in the ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import service
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import CaseContact, CaseNotification
from chorus.evidence.keys import KeyRing
from chorus.evidence.models import LedgerEntry
from chorus.security import survivor_auth
from chorus.store.session import transaction
from tests.web.server import running_server
from tests.web.staff_helpers import THREAD, add_staff, csrf, server_settings, signed_in

SAM = {"name": "Sam Okoro", "unit": "Example Helpline", "reach": "0300 123 4567, weekdays 9-5"}
PRIYA = {"name": "DC Priya Shah", "unit": "Exampleshire Police", "reach": "101, any time"}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path) as base:
        yield base


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:  # the server's keys
    return KeyRing(server_settings(database_url, tmp_path))


def _file(sessions: sessionmaker[Session], keyring: KeyRing, choices: ContactChoices) -> str:
    with transaction(sessions) as session:
        ref = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos from an old album"),
            contact_choices=choices,
        ).case_reference  # fmt: skip
        survivor_auth.set_pin(session, ref, "620418")
    return ref


def _survivor(base: str, ref: str) -> tuple[httpx.Client, str]:
    http = httpx.Client(base_url=base)
    assert http.post("/portal/sign-in", data={"reference": ref, "pin": "620418"}).is_redirect
    return http, csrf(http.get("/portal").text)


def _actions(sessions: sessionmaker[Session]) -> list[str]:
    with transaction(sessions) as session:
        return [str(a) for a in session.scalars(select(LedgerEntry.action))]


def _alert(html: str) -> str:
    found = re.search(r'class="error" role="alert">([^<]+)<', html)
    assert found, "no error on the page"
    return found.group(1)


def test_contact_messages_close_and_reopen_from_the_case_page(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session],
    keyring: KeyRing,
) -> None:  # fmt: skip
    ref = _file(sessions, keyring, ContactChoices(channel="email", detail="amy@example.org"))
    other = _file(sessions, keyring, ContactChoices())
    survivor, survivor_csrf = _survivor(server, ref)
    assert survivor.post(
        "/portal/messages", data={"csrf_token": survivor_csrf, "text": "Is there any news?"}
    ).is_redirect
    inv_secret = add_staff(database_url, tmp_path, "inv.one", "investigator")
    cw = signed_in(server, "a.khan", add_staff(database_url, tmp_path, "a.khan", "caseworker"))

    queue = cw.get("/staff").text
    assert "Survivors waiting for you (1)" in queue and "1 unread reply" in queue
    assert queue.index("Survivors waiting for you") < queue.index("New reports")
    page = cw.get(f"/staff/cases/{ref}")
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store")
    html = page.text
    assert "The duty caseworker" in html and "Please assign a named person" in html
    assert "Is there any news?" in html and "<strong>new</strong>" in html
    assert "No case details they have not already seen" in html  # guidance beside the form
    assert "Email notes are not set up on this server" in html  # no CHORUS_SMTP_HOST here
    assert "<img" not in html
    assert "<strong>new</strong>" not in cw.get(f"/staff/cases/{ref}").text  # read now
    assert "Survivors waiting for you (0)" in cw.get("/staff").text
    token = csrf(html)

    # A refusal keeps what was typed and changes nothing.
    missing = cw.post(
        f"/staff/cases/{ref}/contact",
        data={"csrf_token": token, "name": "Sam Okoro", "unit": "Example Helpline"},
    )
    assert missing.status_code == 422 and "the reach is missing" in _alert(missing.text)
    assert 'value="Sam Okoro"' in missing.text and 'value="Example Helpline"' in missing.text
    foreign = cw.post(f"/staff/cases/{ref}/contact", headers={"Origin": "https://evil.example"},
                      data={"csrf_token": token, **SAM})  # fmt: skip
    assert foreign.status_code == 400
    forged = cw.post(f"/staff/cases/{ref}/contact", data={"csrf_token": "forged", **SAM})
    assert forged.status_code == 400
    with transaction(sessions) as session:
        assert session.scalars(select(CaseContact)).all() == []
    done = cw.post(f"/staff/cases/{ref}/contact", data={"csrf_token": token, **SAM})
    assert done.status_code == 303
    html = cw.get(done.headers["location"]).text
    assert "the survivor has been told" in html and "<strong>Sam Okoro</strong>" in html
    assert "Sam Okoro" in survivor.get("/portal").text

    empty = cw.post(f"/staff/cases/{ref}/messages", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and "The message is empty" in _alert(empty.text)
    text = "Hello, this is Sam. <b>We</b> have asked the site to remove the copies."
    sent = cw.post(f"/staff/cases/{ref}/messages", data={"csrf_token": token, "text": text})
    assert sent.status_code == 303
    assert "&lt;b&gt;We&lt;/b&gt; have asked" in cw.get(f"/staff/cases/{ref}").text  # escaped
    assert "We&lt;/b&gt; have asked" in survivor.get("/portal/messages").text

    # Closing needs a reason; the typed contact comes back. Then closed, the survivor told.
    close = {"csrf_token": token, "reason": " ", **PRIYA}
    refused = cw.post(f"/staff/cases/{ref}/close", data=close)
    assert refused.status_code == 422 and "Please give the reason" in _alert(refused.text)
    assert 'value="DC Priya Shah"' in refused.text
    why = "The copies were removed and the thread is gone."
    assert cw.post(f"/staff/cases/{ref}/close", data={**close, "reason": why}).is_redirect
    html = cw.get(f"/staff/cases/{ref}").text
    assert "Status: <strong>closed</strong>" in html and f"“{why}”" in html
    assert "Reopen the case" in html and "Close the case" not in html
    assert (
        "The reason we recorded: The copies were removed" in survivor.get("/portal/messages").text
    )

    # The survivor asks for it to be reopened: first in the queue, above unread replies.
    other_http, other_csrf = _survivor(server, other)
    other_http.post("/portal/messages", data={"csrf_token": other_csrf, "text": "Hello?"})
    assert survivor.post(
        "/portal/reopen", data={"csrf_token": survivor_csrf, "note": "They are back up."}
    ).is_redirect
    queue = cw.get("/staff").text
    assert "asked for the case to be reopened" in queue
    assert queue.index(f"/staff/cases/{ref}") < queue.index(f"/staff/cases/{other}")
    html = cw.get(f"/staff/cases/{ref}").text
    assert "The survivor asked for this case to be reopened" in html
    assert "They are back up." in html
    reopened = cw.post(
        f"/staff/cases/{ref}/reopen",
        data={"csrf_token": token, "reason": "The copies are back online."},
    )
    assert reopened.status_code == 303
    html = cw.get(f"/staff/cases/{ref}").text
    assert "Status: <strong>open</strong>" in html and "asked for this case to be" not in html
    twice = cw.post(f"/staff/cases/{ref}/reopen", data={"csrf_token": token, "reason": "again"})
    assert twice.status_code == 422 and "Only a closed case" in _alert(twice.text)
    same_unit = cw.post(
        f"/staff/cases/{ref}/transfer",
        data={"csrf_token": token, "reason": "Closer to home", **PRIYA},
    )
    assert same_unit.status_code == 422 and "already with that unit" in _alert(same_unit.text)
    assert "Closer to home" in same_unit.text

    actions = _actions(sessions)
    for tag in ("cases:contact:assigned", "cases:message:sent", "cases:case:closed",
                "cases:case:reopen_requested", "cases:case:reopened"):  # fmt: skip
        assert tag in actions
    assert actions.count("cases:case:transferred") == 0
    # Investigators do not manage cases; nobody reaches a case that is not there.
    investigator = signed_in(server, "inv.one", inv_secret)
    assert investigator.get(f"/staff/cases/{ref}").status_code == 403
    assert cw.get("/staff/cases/CH-0000-0000").status_code == 404
    found = cw.get("/staff/cases", params={"reference": ref.lower()})
    assert found.headers["location"] == f"/staff/cases/{ref}"


def test_survivors_who_chose_phone_wait_for_a_call_the_caseworker_records(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session],
    keyring: KeyRing,
) -> None:  # fmt: skip
    ref = _file(sessions, keyring, ContactChoices(channel="phone", detail="07700 900123",
                                                  times="weekdays after 6pm"))  # fmt: skip
    cw = signed_in(server, "b.lee", add_staff(database_url, tmp_path, "b.lee", "caseworker"))
    token = csrf(cw.get("/staff").text)
    cw.post(f"/staff/cases/{ref}/messages", data={"csrf_token": token, "text": "An update."})
    assert "waiting for a call" in cw.get("/staff").text
    html = cw.get(f"/staff/cases/{ref}").text
    assert "07700 900123" in html and "weekdays after 6pm" in html
    assert "call the survivor at the times they chose" in html and "A call to make" in html
    with transaction(sessions) as session:
        note = session.scalars(select(CaseNotification)).one()
        assert note.channel == "phone" and note.sent_at is None
        assert "update" in note.text and "photo" not in note.text.lower()
    called = cw.post(f"/staff/cases/{ref}/notes/{note.id}/called", data={"csrf_token": token})
    assert called.status_code == 303
    assert "The call is recorded" in cw.get(called.headers["location"]).text
    again = cw.post(f"/staff/cases/{ref}/notes/{note.id}/called", data={"csrf_token": token})
    assert again.status_code == 422 and "already recorded" in _alert(again.text)
    assert "waiting for a call" not in cw.get("/staff").text
    assert "cases:note:delivered" in _actions(sessions)


def test_a_case_whose_survivor_asked_for_deletion_cannot_be_changed(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session],
    keyring: KeyRing,
) -> None:  # fmt: skip
    ref = _file(sessions, keyring, ContactChoices())
    survivor, survivor_csrf = _survivor(server, ref)
    asked = survivor.post(
        "/portal/data/delete", data={"csrf_token": survivor_csrf, "confirm": "yes"}
    )
    assert asked.status_code == 200
    cw = signed_in(server, "e.ellis", add_staff(database_url, tmp_path, "e.ellis", "caseworker"))
    html = cw.get(f"/staff/cases/{ref}").text
    assert "asked for their data to be deleted" in html
    assert "Send message" not in html and "Close the case" not in html
    token = csrf(html)
    refused = cw.post(f"/staff/cases/{ref}/messages", data={"csrf_token": token, "text": "Hi"})
    assert refused.status_code == 422 and "asked for their data to be deleted" in _alert(
        refused.text
    )
    close = {"csrf_token": token, "reason": "Done", **SAM}
    assert cw.post(f"/staff/cases/{ref}/close", data=close).status_code == 422
    assert "cases:case:closed" not in _actions(sessions)


def test_common_connections_for_investigators_counts_only_and_recorded(
    server: str, database_url: str, tmp_path: Path, sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    people = [["Dave Kerr", "@shared_friend"], ["Dave Ker", "Tom Lane"], ["@shared_friend"]]
    reports = []
    for n, names in enumerate(people):
        answer = httpx.post(f"{server}/api/v1/reports", json={"pin": "620418", "answers": {
            "what_was_shared": f"Photos, report {n}", "urls": [THREAD],
            "people_with_access": names}})  # fmt: skip
        assert answer.status_code == 201, answer.text
        reports.append(answer.json()["report_id"])
    cw = signed_in(server, "c.cole", add_staff(database_url, tmp_path, "c.cole", "caseworker"))
    for report_id in reports[1:]:
        page = cw.get(f"/staff/reports/{report_id}").text
        for link_id in re.findall(r'action="/staff/links/(\d+)/decide"', page):
            cw.post(f"/staff/links/{link_id}/decide",
                    data={"csrf_token": csrf(page), "decision": "confirm"})  # fmt: skip
    made = cw.post(f"/staff/reports/{reports[0]}/series", data={"csrf_token": csrf(page)})
    series_url = made.headers["location"]
    assert "Common connections" not in cw.get(series_url).text  # caseworkers: not at all
    assert cw.get(f"{series_url}?connections=show").status_code == 403
    before = _actions(sessions).count("cases:series:connections_viewed")

    inv = signed_in(server, "d.dunn", add_staff(database_url, tmp_path, "d.dunn", "investigator"))
    html = inv.get(series_url).text
    assert "Show the common connections" in html and "recorded in the evidence ledger" in html
    assert _actions(sessions).count("cases:series:connections_viewed") == before  # not yet
    shown = inv.get(f"{series_url}?connections=show").text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", shown)
    assert sorted((n.split()[0].lower(), c) for n, c in rows) == [("@shared_friend", "2"),
                                                                   ("dave", "2")]  # fmt: skip
    section = shown.split('id="connections"')[1].split("</section>")[0]
    assert "Tom Lane" not in section  # on one list only
    assert "CH-" not in section and "/staff/reports/" not in section  # never who named whom
    assert _actions(sessions).count("cases:series:connections_viewed") == before + 1
