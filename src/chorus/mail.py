"""Sending one email over SMTP: connect, TLS with the certificate checked, log in, send.

Infrastructure like ``store/``: it knows the ``CHORUS_SMTP_*`` settings and nothing of any
domain. Takedown notices (``chorus.takedowns.sending``) and the neutral notes to survivors
(``chorus.cases.notifier``) both send through it; each builds its own message, with a
Message-ID it keeps, so that a retry of the same message can be recognised as one.

:meth:`MailServer.send` raises :class:`Refused` only when it is certain that the message
was not accepted (no connection, no TLS, a failed login, or a refusal the server stated);
any other ``OSError`` or ``smtplib.SMTPException`` means the message may have gone.
There is never a fall back to plain text: ``starttls`` against a server that offers no
STARTTLS is a refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from chorus.config import Settings


class Refused(Exception):
    """The mail server said no, or could not be used: nothing was accepted.

    ``connection`` is True when no message could be offered at all (the server is down,
    TLS or login failed): every other message would meet the same refusal now."""

    def __init__(self, message: str, *, connection: bool) -> None:
        super().__init__(message)
        self.connection = connection


@dataclass(frozen=True)
class MailServer:
    """The mail server from the settings (``CHORUS_SMTP_*``)."""

    settings: Settings

    @classmethod
    def configured(cls, settings: Settings) -> MailServer | None:
        """The mail server, or None when ``CHORUS_SMTP_HOST`` is empty (email is off).

        Unsafe settings (no TLS to another machine, a user name without a password) raise
        ``ConfigError``, as at start-up."""
        if not settings.smtp_host.strip():
            return None
        settings.require_safe_mail()
        return cls(settings)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host, port, timeout = s.smtp_host.strip(), s.smtp_port, s.smtp_timeout_s
        context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        smtp: smtplib.SMTP | None = None
        try:
            if s.smtp_tls == "tls":
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if s.smtp_tls == "starttls":
                    smtp.starttls(context=context)  # raises when STARTTLS is not offered
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except (OSError, smtplib.SMTPException) as exc:  # before any message: nothing sent
            if smtp is not None:
                smtp.close()
            raise Refused(
                f"the mail server {host}:{port} could not be used ({exc})", connection=True
            ) from exc
        return smtp

    def send(self, message: EmailMessage, *, from_addr: str) -> None:
        """Send ``message`` (it must carry its own Message-ID) from ``from_addr``."""
        if not message.get("Message-ID"):
            raise ValueError("a message is sent with a Message-ID it keeps, for retries")
        smtp = self._connect()
        try:
            smtp.send_message(message, from_addr=from_addr)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ) as exc:
            raise Refused(f"the mail server refused the message ({exc})", connection=False) from exc
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def stable_message_id(secret: str, what: str, from_addr: str) -> str:
    """A Message-ID that is the same for every try of one message and says nothing about
    it: a keyed digest of ``what`` at the sender's domain."""
    domain = parseaddr(from_addr)[1].rpartition("@")[2] or "localhost"
    digest = hmac.new(secret.encode(), what.encode(), hashlib.sha256).hexdigest()[:32]
    return f"<{digest}@{domain}>"
