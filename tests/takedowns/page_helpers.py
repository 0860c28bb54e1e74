"""Helpers for the takedown page tests: a Chorus server wired to the discovery lab (DNS,
RDAP, sites on 127.0.0.1) and a local SMTP server, and copies recorded as the monitor does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from chorus.evidence.keys import KeyRing
from chorus.evidence.warc import Exchange, build_warc
from chorus.matching.identify import EntryMatch
from chorus.monitor import sightings
from chorus.monitor.sources.base import MediaRef
from chorus.store.base import utcnow
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction
from tests.web.server import running_server
from tests.web.staff_helpers import server_settings

from .discovery_lab import Lab

NOTIFIER = {
    "takedown_notifier_name": "Example Helpline",
    "takedown_notifier_email": "takedowns@helpline.example",
    "takedown_notifier_address": "1 Example Street, Exampletown EX1 1EX",
}


def lab_settings(lab: Lab, smtp_port: int) -> dict[str, Any]:
    """Settings for a server whose discovery asks the lab and whose mail goes to aiosmtpd."""
    s = lab.settings
    return {
        "takedown_dns_servers": s.takedown_dns_servers,
        "takedown_rdap_bootstrap_dir": s.takedown_rdap_bootstrap_dir,
        "takedown_timeout_s": s.takedown_timeout_s,
        "takedown_max_bytes": s.takedown_max_bytes,
        "monitor_allowed_networks": ["127.0.0.0/8", "::1"],
        "monitor_request_interval_s": 0,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_tls": "none",
        "smtp_timeout_s": 5,
        "takedown_advance_interval_s": 0,
        "monitor_in_serve": False,
        **NOTIFIER,
    }


@contextmanager
def lab_server(database_url: str, data_dir: Path, lab: Lab, smtp_port: int) -> Iterator[str]:
    with running_server(database_url, data_dir, **lab_settings(lab, smtp_port)) as base:
        yield base


def copy_in(
    session: Session, keyring: KeyRing, case: str, page_url: str, media_url: str,
    n: int = 1, entry: str | None = None,
) -> str:  # fmt: skip
    """A sighting recorded through the monitor's own service (as a board check would)."""
    ref = MediaRef(
        url=media_url, page_url=page_url, thumbnail_url=media_url.replace(".jpg", "s.jpg"),
        post_id=str(n), thread=f"b/{n}",
    )  # fmt: skip
    page = Exchange(page_url, 200, "OK", [("Content-Type", "text/html")], b"<p>", utcnow())
    match = EntryMatch(entry or f"be_{n}", case, "pdq", 4, 31)
    recorded = sightings.record(session, keyring, ref, match, lambda: build_warc([page]))
    return recorded.sighting.public_id


def record_copy(
    database_url: str, data_dir: Path, case: str, page_url: str, media_url: str, n: int = 1
) -> str:
    """:func:`copy_in` on a test server's database (with the server's keys)."""
    engine = make_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            keyring = KeyRing(server_settings(database_url, data_dir))
            return copy_in(session, keyring, case, page_url, media_url, n)
    finally:
        engine.dispose()


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def radio_for(html: str, email: str) -> str:
    """The value of the recipient radio button whose label shows ``email``."""
    for value, label in re.findall(
        r'name="recipient" value="([^"]+)"[^>]*>(.*?)</label>', html, re.S
    ):
        if email in label:
            return str(value)
    raise AssertionError(f"no recipient with {email} on the page")
