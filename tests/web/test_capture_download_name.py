"""A capture whose file name is not plain ASCII (a screenshot named in Cyrillic, with quotes
or an en dash) still downloads: the name is given as RFC 6266 ``filename*`` with a safe
ASCII fallback, and quotes or line breaks never reach the header."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from chorus.evidence import captures
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from tests.web.server import running_server
from tests.web.staff_helpers import add_staff, csrf, server_settings, signed_in

NAME = 'Снимок экрана "1" – 2026.png'


def test_a_capture_with_a_non_ascii_name_downloads(database_url: str, tmp_path: Path) -> None:
    with running_server(database_url, tmp_path) as base:
        secret = add_staff(database_url, tmp_path, "d.osei", "investigator")
        engine = make_engine(database_url)
        with transaction(session_factory(engine)) as session:
            info = captures.store(
                session, KeyRing(server_settings(database_url, tmp_path)),
                Actor(Role.SYSTEM, "monitor"), case_ref="CH-NAME-TEST", kind="screenshot",
                data=b"\x89PNG\r\n\x1a\n" + b"0" * 64, filename=NAME,
            )  # fmt: skip
        engine.dispose()
        officer = signed_in(base, "d.osei", secret)
        token = csrf(officer.get(f"/staff/captures/{info.public_id}").text)
        form = {"csrf_token": token, "reason": "Charging decision"}
        opened = officer.post(f"/staff/captures/{info.public_id}/open", data=form)
        assert opened.status_code == 200 and opened.content.startswith(b"\x89PNG")
        header = opened.headers["content-disposition"]
        assert header.startswith("attachment; filename=")
        plain = header.split('filename="', 1)[1].split('"', 1)[0]
        assert plain.isascii() and plain.startswith(info.public_id)
        assert unquote(header.split("filename*=UTF-8''", 1)[1]) == f"{info.public_id}-{NAME}"
