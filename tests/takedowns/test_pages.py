"""The caseworker's takedown pages over a real server (SQLite and PostgreSQL), with
discovery against the local DNS/RDAP/site lab and mail to a local SMTP server: a case's
copies, opening a takedown, recipients found with sources and how sure (and the sources
that failed), drafting, the completeness check refusing a send and naming the gap, email
at most once, a web form pack and a recorded send, replies, an escalation proposed and
approved, the history; the metrics page and CSV; the delisting packs. Never an image."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from chorus.evidence.models import LedgerEntry
from chorus.store.base import utcnow
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from chorus.takedowns import tracking
from chorus.takedowns.models import Notice
from tests.web.staff_helpers import add_staff, signed_in

from .conftest import Inbox
from .discovery_lab import Lab
from .page_helpers import lab_server, radio_for, record_copy, token

CASE = "CH-PAGE-TEST"
SIGNATURE = "/s/ A. Caseworker, Example Helpline, authorised representative"


@pytest.fixture
def world(
    database_url: str, tmp_path: Path, lab: Lab, smtp: tuple[Inbox, int]
) -> Iterator[dict[str, Any]]:
    with lab_server(database_url, tmp_path, lab, smtp[1]) as base:
        secret = add_staff(database_url, tmp_path, "c.work", "caseworker")
        other = add_staff(database_url, tmp_path, "i.vest", "investigator")
        page_url = lab.url("valid.test", "/b/thread/7")
        media_url = lab.url("gone.test", "/b/1700000000007.jpg")  # its host's RDAP answers 404
        sid = record_copy(database_url, tmp_path, CASE, page_url, media_url, n=7)
        cw = signed_in(base, "c.work", secret)
        inv = signed_in(base, "i.vest", other)
        yield {"base": base, "cw": cw, "inv": inv, "sid": sid, "url": database_url,
               "data": tmp_path, "inbox": smtp[0], "page_url": page_url,
               "media_url": media_url}  # fmt: skip
        cw.close()
        inv.close()


def _open(w: dict[str, Any]) -> tuple[httpx.Client, str]:
    cw: httpx.Client = w["cw"]
    case_page = cw.get(f"/staff/cases/{CASE}/takedowns")
    assert case_page.status_code == 200
    form = {"csrf_token": token(case_page.text)}
    opened = cw.post(f"/staff/sightings/{w['sid']}/takedown", data=form)
    assert opened.status_code == 303
    return cw, opened.headers["location"].split("?")[0]


def test_a_takedown_from_the_copy_to_a_sent_notice(world: dict[str, Any]) -> None:
    w = world
    cw: httpx.Client = w["cw"]
    case_page = cw.get(f"/staff/cases/{CASE}/takedowns")
    assert "valid.test" in case_page.text and "still online" in case_page.text
    assert w["page_url"] in case_page.text
    assert "<img" not in case_page.text and "<script" not in case_page.text
    # Investigators do not run takedowns; nobody signed out gets in.
    assert w["inv"].get(f"/staff/cases/{CASE}/takedowns").status_code == 403
    assert httpx.get(f"{w['base']}/staff/cases/{CASE}/takedowns").status_code == 303

    cw, td_path = _open(w)
    assert td_path.startswith("/staff/takedowns/TD-")
    page = cw.get(td_path).text
    assert "Find who can remove it" in page and "Nobody has been looked up yet." in page
    found = cw.post(f"{td_path}/discover", data={"csrf_token": token(page)})
    assert found.status_code == 303, found.text
    page = cw.get(td_path).text
    assert "security@valid.test" in page and "how sure: high" in page
    assert "abuse@hosting.test" in page  # the host, from RDAP
    assert "abuse-desk@registrar.test" in page  # the registrar, from domain RDAP
    assert "security.txt http://valid.test:" in page  # where each one was found
    assert "gave nothing" in page and "gone.test" in page  # the failed sources, plainly
    drafting = page.split("Write a notice")[1].split("Notices")[0]
    assert "Google" not in drafting  # search engines get a delisting pack, not a notice

    # A draft missing what the law needs is kept, and its gaps are named beside the form.
    form = {
        "csrf_token": token(page), "recipient": radio_for(page, "security@valid.test"),
        "regime": "eu-dsa-art16", "signature": SIGNATURE, "non_consent": "yes",
    }  # fmt: skip
    drafted = cw.post(f"{td_path}/notices", data=form)
    assert drafted.status_code == 303
    notice_path = drafted.headers["location"].split("?")[0]
    page = cw.get(notice_path).text
    assert "confirmation that the notice is accurate and made in good faith" in page
    assert f'value="{SIGNATURE}"' in page  # what was typed is kept
    assert w["page_url"] in page and w["media_url"] in page  # the notice names every URL
    refused = cw.post(f"{notice_path}/send", data={"csrf_token": token(page)})
    assert refused.status_code == 422
    assert "cannot be sent yet" in refused.text and "good faith" in refused.text
    assert w["inbox"].messages == []

    # Filled in, it goes by email once; a second press sends nothing.
    filled = {**{k: v for k, v in form.items() if k not in ("recipient", "regime")},
              "accurate": "yes", "csrf_token": token(page)}  # fmt: skip
    assert cw.post(f"{notice_path}/revise", data=filled).status_code == 303
    page = cw.get(notice_path).text
    assert "Everything the law needs is there." in page
    sent = cw.post(f"{notice_path}/send", data={"csrf_token": token(page)})
    assert sent.status_code == 303 and sent.headers["location"].endswith("saved=emailed")
    again = cw.post(f"{notice_path}/send", data={"csrf_token": token(page)})
    assert again.status_code == 303 and again.headers["location"].endswith("saved=already")
    (message,) = w["inbox"].messages
    assert message["To"] == "security@valid.test"
    assert "Digital Services Act" in message["Subject"]
    assert not message.is_multipart()  # text only, never an attachment
    page = cw.get(notice_path).text
    assert "sent, waiting for the copy to be removed" in page

    # Their reply is recorded; refusal brings the next step, proposed with its reason.
    answered = cw.post(f"{notice_path}/answer", data={"csrf_token": token(page),
                       "outcome": "refused", "note": "They say it is allowed."})  # fmt: skip
    assert answered.status_code == 303
    engine = make_engine(w["url"])
    with transaction(session_factory(engine)) as session:
        assert tracking.advance(session).proposals
        actions = [str(a) for a in session.scalars(select(LedgerEntry.action))]
    engine.dispose()
    assert "takedowns:takedown:recipients_found" in actions
    page = cw.get(td_path).text
    assert "Next steps proposed" in page and "refused to remove it" in page
    proposal = page.split('action="/staff/escalations/')[1].split("/")[0]
    approve = cw.post(f"/staff/escalations/{proposal}/decide", data={
        "csrf_token": token(page), "decision": "approve", "takedown": td_path.rsplit("/", 1)[1],
        "why": "The site refused; its host can act."})  # fmt: skip
    assert approve.status_code == 303
    page = cw.get(approve.headers["location"]).text
    assert "abuse@hosting.test" in page and "The next step is approved" in page

    history = cw.get(td_path).text.split("History")[1]
    for step in ("drafted", "sending", "refused", "proposed", "approved"):
        assert step in history, step
    assert "<img" not in history


def test_bad_input_keeps_what_was_typed_and_changes_nothing(world: dict[str, Any]) -> None:
    cw, td_path = _open(world)
    page = cw.get(td_path).text
    dmca = cw.post(f"{td_path}/notices", data={
        "csrf_token": token(page), "recipient": "other", "other_name": "Board Team",
        "other_email": "abuse@board.test", "regime": "us-dmca-512c3",
        "signature": SIGNATURE})  # fmt: skip
    assert dmca.status_code == 422
    assert "only be made for a photograph the survivor took" in dmca.text
    assert 'value="Board Team"' in dmca.text and f'value="{SIGNATURE}"' in dmca.text
    bad_email = cw.post(f"{td_path}/notices", data={
        "csrf_token": token(page), "recipient": "other", "other_name": "Board Team",
        "other_email": "not an address", "regime": "england-wales"})  # fmt: skip
    assert bad_email.status_code == 422 and "not a usable" in bad_email.text
    no_csrf = cw.post(f"{td_path}/notices", data={"recipient": "other", "regime": "england-wales"})
    assert no_csrf.status_code == 400
    assert "No notice has been written yet." in cw.get(td_path).text

    # A web form recipient: the pack has every field to copy and a checklist; then recorded.
    page = cw.get(td_path).text
    drafted = cw.post(f"{td_path}/notices", data={
        "csrf_token": token(page), "recipient": "other", "other_name": "Board Team",
        "other_form": "https://board.test/report", "regime": "england-wales",
        "non_consent": "yes"})  # fmt: skip
    notice_path = drafted.headers["location"].split("?")[0]
    pack = cw.get(f"{notice_path}/pack")
    assert pack.status_code == 200
    assert "Do not upload any image or screenshot" in pack.text
    assert world["page_url"] in pack.text and "readonly" in pack.text
    page = cw.get(notice_path).text
    assert "Send by email" not in page  # no email address known
    recorded = cw.post(f"{notice_path}/sent", data={"csrf_token": token(page),
                       "channel": "web_form", "note": "ticket 4471"})  # fmt: skip
    assert recorded.status_code == 303
    assert "sent through the recipient&#39;s web form: ticket 4471" in cw.get(td_path).text

    # Still up a day later: the re-notice waits as a draft (the first went by web form).
    engine = make_engine(world["url"])
    with transaction(session_factory(engine)) as session:
        (renotice,) = tracking.advance(session, utcnow() + timedelta(days=2)).renotices
    engine.dispose()
    page = cw.get(td_path).text
    first = notice_path.rsplit("/", 1)[1]
    assert f"re-notice of {first}" in page and "no removal in time; followed up" in page
    assert "Second request" in cw.get(f"/staff/notices/{renotice}").text

    # Delisting packs, ready to copy; none where a minor may be shown.
    asking = cw.get(f"{td_path}/delisting", params={"country": "gb"})
    assert 'method="post"' in asking.text and "Bing" not in asking.text  # no query strings
    form = {"csrf_token": token(asking.text), "country": "gb",
            "results": "https://www.bing.com/search?q=a+name"}  # fmt: skip
    packs = cw.post(f"{td_path}/delisting", data=form)
    assert packs.status_code == 200
    assert "Google" in packs.text and "Bing" in packs.text and ">GB<" in packs.text
    assert world["media_url"] in packs.text and "q=a+name" in packs.text
    minor = cw.post(f"{td_path}/delisting", data={**form, "country": "GB", "minor": "yes"})
    assert minor.status_code == 422 and "child-protection" in minor.text
    assert "Bing" not in minor.text.split("</form>")[1]

    # Metrics: the chart inline, the table, the CSV.
    metrics = cw.get("/staff/metrics/takedowns")
    assert metrics.status_code == 200 and "<svg" in metrics.text and "Board Team" in metrics.text
    csv = cw.get("/staff/metrics/takedowns.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("group,name,copies_notified")
    assert "Board Team" in csv.text


def test_a_notice_that_may_already_have_gone_is_resent_only_on_purpose(
    world: dict[str, Any],
) -> None:
    cw, td_path = _open(world)
    page = cw.get(td_path).text
    drafted = cw.post(f"{td_path}/notices", data={
        "csrf_token": token(page), "recipient": "other", "other_name": "Board Team",
        "other_email": "abuse@board.test", "regime": "england-wales",
        "non_consent": "yes"})  # fmt: skip
    notice_path = drafted.headers["location"].split("?")[0]
    notice_id = notice_path.rsplit("/", 1)[1]
    engine = make_engine(world["url"])
    with transaction(session_factory(engine)) as session:  # as a crash after the claim leaves it
        session.execute(
            update(Notice).where(Notice.public_id == notice_id)
            .values(state="sending", claimed_at=utcnow())
        )  # fmt: skip
    engine.dispose()
    page = cw.get(notice_path).text
    assert "It may already have gone" in page and "Send by email" not in page
    again = cw.post(f"{notice_path}/send", data={"csrf_token": token(page)})
    assert again.status_code == 422 and "may already have gone out" in again.text
    no_reason = cw.post(f"{notice_path}/resend", data={"csrf_token": token(page), "why": " "})
    assert no_reason.status_code == 422 and "say why" in no_reason.text
    assert world["inbox"].messages == []
    resent = cw.post(f"{notice_path}/resend", data={
        "csrf_token": token(page), "why": "The board says it never arrived."})  # fmt: skip
    assert resent.status_code == 303
    (message,) = world["inbox"].messages
    assert message["To"] == "abuse@board.test"
    assert "sent, waiting for the copy to be removed" in cw.get(notice_path).text
    assert "resent on purpose: The board says it never arrived." in cw.get(td_path).text
