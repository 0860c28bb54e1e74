"""The survivor's portal says how removal is going, in plain words: counts and dates only."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction
from chorus.takedowns import sending, service, tracking

from ..web.server import running_server
from ..web.test_portal_page import file_report
from .fixtures import SITE, set_gone, sighting
from .test_sending import COMPLETE


def test_portal_home_shows_removal_progress(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # the same keys as the test server's, so both sides read the same case keys
    settings = Settings(
        env="test",
        secret_key="t" * 40,
        database_url=database_url,
        data_dir=tmp_path,
        evidence_signing_key=base64.b64encode(b"s" * 32).decode(),  # type: ignore[arg-type]
        evidence_master_key=base64.b64encode(b"m" * 32).decode(),  # type: ignore[arg-type]
        takedown_notifier_name="Example Helpline",
        takedown_notifier_email="takedowns@helpline.example",
    )
    keyring, by = KeyRing(settings), Actor(Role.CASEWORKER, "cw-3")
    with running_server(database_url, tmp_path) as base:
        reference = file_report(base)
        http = httpx.Client(base_url=base)
        assert http.post("/portal/sign-in", data={"reference": reference, "pin": "620418"})
        assert "Asking for copies" not in http.get("/portal").text
        with transaction(sessions) as session:
            for n in (1, 2):
                sid = sighting(session, keyring, case=reference, n=n, entry=f"be_{n}")
                td = service.open_takedown(session, sid, by=by)
                notice = service.draft(
                    session,
                    td.public_id,
                    by=by,
                    regime="england-wales",
                    recipient=SITE,
                    notifier=service.notifier_from_settings(settings),
                    choices=COMPLETE,
                )
                sending.mark_sent(session, keyring, settings, notice.public_id, by=by)
            set_gone(session, keyring, sid)
            tracking.advance(session)
        home = http.get("/portal").text
    text = " ".join(re.sub(r"<[^>]+>", " ", home).split())
    assert "We have asked for 2 copies to be removed, starting on" in text
    assert "1 copy is now gone: we checked, the latest on" in text
    assert "1 copy is still online. We are following up" in text
    assert "board.example" not in home and "<img" not in home
