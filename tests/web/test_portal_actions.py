"""Portal actions without JavaScript: choices, a copy of one's data, fingerprints back,
deletion asked for and cancelled; every form needs the session's CSRF token."""

from __future__ import annotations

import json
import re

import httpx

from tests.web.test_portal_page import file_report


def _signed_in(base: str) -> tuple[httpx.Client, str, str]:
    reference = file_report(base)
    http = httpx.Client(base_url=base)
    assert http.post("/portal/sign-in", data={"reference": reference, "pin": "620418"}).is_redirect
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/portal").text)
    assert token
    return http, reference, token.group(1)


def test_choices_data_and_deletion(page_server: str) -> None:
    http, reference, csrf = _signed_in(page_server)
    assert 'value="portal" checked' in http.get("/portal/choices").text
    forged = http.post("/portal/choices", data={"csrf_token": "forged", "channel": "phone",
                                                "detail": "07700 900123"})  # fmt: skip
    assert forged.headers["location"] == "/portal/sign-in"
    missing = http.post("/portal/choices", data={"csrf_token": csrf, "channel": "phone"})
    assert missing.status_code == 422 and "number" in missing.text
    saved = http.post("/portal/choices", data={"csrf_token": csrf, "channel": "phone",
                                               "detail": "07700 900123", "times": "evenings",
                                               "consent_police_contact": "on"})  # fmt: skip
    assert saved.status_code == 303
    assert "Your choices are saved" in http.get(saved.headers["location"]).text
    again = http.get("/portal/choices").text
    assert 'value="phone" checked' in again and "07700 900123" in again
    assert 'name="consent_linking" value="on" checked' not in again

    download = http.post("/portal/data/export", data={"csrf_token": csrf})
    assert download.headers["content-disposition"].startswith("attachment")
    data = json.loads(download.text)
    assert data["case_reference"] == reference and data["choices"]["times"] == "evenings"
    assert data["reports"][0]["answers"]["what_was_shared"] == "Photos from an old album"

    unconfirmed = http.post("/portal/data/delete", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
    asked = http.post("/portal/data/delete", data={"csrf_token": csrf, "confirm": "yes"})
    assert "change your mind" in asked.text and "Keep my case" in asked.text
    assert "You asked for your data to be deleted" in http.get("/portal").text
    kept = http.post("/portal/data/delete", data={"csrf_token": csrf, "cancel": "yes"})
    assert "Nothing will be deleted" in kept.text
    assert "You asked for your data" not in http.get("/portal").text
    withdrawn = http.post("/portal/data/withdraw-fingerprints",
                          data={"csrf_token": csrf, "confirm": "yes"})  # fmt: skip
    assert "0 fingerprints were withdrawn" in withdrawn.text
    assert "<img" not in withdrawn.text
