"""Takedown fixtures: a real SMTP server on 127.0.0.1 (aiosmtpd), settings that use it,
sightings recorded through the monitor's own service, recipients built directly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role

from ..evidence.conftest import new_key


@dataclass
class Inbox:
    """What the local SMTP server received, and whether it should refuse the next one."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse_next: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_next:
            self.refuse_next = False
            return "554 5.7.1 Message refused"
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def takedown_settings(
    database_url: str, tmp_path: Path, smtp_port: int = 0, **more: Any
) -> Settings:
    values: dict[str, Any] = dict(
        env="test",
        secret_key="t" * 40,
        database_url=database_url,
        data_dir=tmp_path,
        evidence_signing_key=new_key(),
        evidence_master_key=new_key(),
        monitor_allowed_networks=["127.0.0.1"],
        monitor_request_interval_s=0,
        monitor_interval_s=1,
        monitor_recheck_interval_s=1,
        takedown_notifier_name="Example Helpline",
        takedown_notifier_email="takedowns@helpline.example",
        takedown_notifier_address="1 Example Street, Exampletown EX1 1EX",
        smtp_host="127.0.0.1" if smtp_port else "",
        smtp_port=smtp_port or 587,
        smtp_tls="none",
        smtp_timeout_s=5,
    )
    values.update(more)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:
    return takedown_settings(database_url, tmp_path, smtp[1])


@pytest.fixture
def keyring(settings: Settings) -> KeyRing:
    return KeyRing(settings)


@pytest.fixture
def caseworker() -> Actor:
    return Actor(Role.CASEWORKER, "cw-3")


# The discovery tests' DNS server, RDAP server and web sites (module-scoped fixture `lab`).
from .discovery_lab import lab  # noqa: E402, F401
