"""Mail goes encrypted and authenticated: STARTTLS with the certificate checked, login only
over TLS, and never a silent fall back to plain text."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import SendError
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor
from chorus.store.session import transaction
from chorus.takedowns import sending, service

from .conftest import Inbox, _free_port
from .test_sending import drafted


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(_server: Any, _session: Any, _envelope: Any, _mech: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"helpline", b"pw")
    return AuthResult(success=ok)


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=_authenticator,
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def test_starttls_with_a_checked_certificate_and_login(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    caseworker: Actor,
    tls_smtp: tuple[Inbox, int, Path],
) -> None:
    inbox, port, cert = tls_smtp
    secure = settings.model_copy(
        update={
            "smtp_port": port,
            "smtp_tls": "starttls",
            "smtp_username": "helpline",
            "smtp_password": SecretStr("pw"),
        }
    )
    notice_id = drafted(sessions, keyring, secure, caseworker)
    # The certificate is not trusted by default: nothing is sent, the notice stays a draft.
    with pytest.raises(SendError, match="could not be used"):
        sending.send_email(sessions, keyring, secure, notice_id, by=caseworker)
    trusted = secure.model_copy(update={"smtp_ca_file": cert})
    wrong = trusted.model_copy(update={"smtp_password": SecretStr("nope")})
    with pytest.raises(SendError, match="could not be used"):
        sending.send_email(sessions, keyring, wrong, notice_id, by=caseworker)
    assert inbox.messages == []
    assert sending.send_email(sessions, keyring, trusted, notice_id, by=caseworker).sent_now
    assert len(inbox.messages) == 1
    with transaction(sessions) as session:
        assert service.notice_row(session, notice_id)[1].state == "sent"


def test_no_fall_back_to_plain_text(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    caseworker: Actor,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, _port = smtp  # this server offers no STARTTLS
    wants_tls = settings.model_copy(update={"smtp_tls": "starttls"})
    notice_id = drafted(sessions, keyring, wants_tls, caseworker)
    with pytest.raises(SendError, match="could not be used"):
        sending.send_email(sessions, keyring, wants_tls, notice_id, by=caseworker)
    assert inbox.messages == []
