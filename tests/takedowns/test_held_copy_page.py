"""Asking for a takedown of a copy still held for review (a possible match a caseworker has
not confirmed) gets a plain staff page saying why, not the API's JSON error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from chorus.monitor import review
from chorus.monitor.models import Sighting
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from tests.web.server import running_server
from tests.web.staff_helpers import add_staff, csrf, signed_in

from .page_helpers import record_copy


def test_a_held_copy_is_refused_on_a_page(database_url: str, tmp_path: Path) -> None:
    with running_server(database_url, tmp_path, monitor_in_serve=False) as base:
        secret = add_staff(database_url, tmp_path, "c.work", "caseworker")
        sid = record_copy(database_url, tmp_path, "CH-HELD-TEST", "https://board.example/b/1",
                          "https://board.example/b/1.jpg")  # fmt: skip
        engine = make_engine(database_url)
        with transaction(session_factory(engine)) as session:
            session.execute(update(Sighting).where(Sighting.public_id == sid)
                            .values(review=review.HELD))  # fmt: skip
        engine.dispose()
        cw = signed_in(base, "c.work", secret)
        token = csrf(cw.get("/staff/cases/CH-HELD-TEST/takedowns").text)
        refused = cw.post(f"/staff/sightings/{sid}/takedown", data={"csrf_token": token})
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("text/html")
        assert "waiting for a caseworker" in refused.text and "no takedown is sent" in refused.text
