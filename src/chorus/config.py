"""Settings: one object, read from ``CHORUS_*`` environment variables (or a ``.env`` file).

Every setting is documented here (the ``description``) and in ``docs/settings.md``; a test
fails when one is missing from either. Outside development the server refuses to start
with a missing or well-known secret (:meth:`Settings.require_secrets`): there are no default
secrets in production.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.errors import ConfigError
from chorus.fingerprint import Limits

Environment = Literal["development", "test", "production"]

#: Values that must never protect a real deployment.
_KNOWN_WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "development", "dev"})
_MIN_SECRET_LENGTH = 32
#: Every case names a person to contact from the moment it is filed (the story's "case
#: closed with no one to call"), so production refuses to start without one.
_DUTY_CONTACT_MISSING = (
    "CHORUS_DUTY_CONTACT_NAME, CHORUS_DUTY_CONTACT_UNIT and CHORUS_DUTY_CONTACT_REACH must "
    "be set in production: every new case shows this person and how to reach them until a "
    "caseworker assigns a named contact."
)


class Settings(BaseSettings):
    """Chorus configuration. Each field maps to ``CHORUS_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="CHORUS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Field(
        default="production",
        description=(
            "Deployment mode: 'development' (local use; a random secret key is made per "
            "process when none is set), 'test', or 'production' (the default: every secret "
            "must be set explicitly)."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key for signing sessions and tokens; at least 32 characters, random. Required "
            "outside development."
        ),
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded SQLite database and other local state.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy database URL. Empty means embedded SQLite at <data_dir>/chorus.db; "
            "use postgresql+psycopg://... for several processes or machines."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `chorus serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `chorus serve` uses.")
    auto_migrate: bool = Field(
        default=True,
        description="Bring the database schema up to date when the server starts.",
    )
    match_radius: int = Field(
        default=31,
        ge=0,
        le=63,
        description="Largest PDQ Hamming distance that counts as a match (of 256 bits).",
    )
    quarantine_threshold: int = Field(
        default=50,
        ge=1,
        description=(
            "A bank entry matching more than this many different items within the "
            "quarantine window is held for review (a possible false submission)."
        ),
    )
    quarantine_window_s: int = Field(
        default=3600, ge=1, description="Window for the quarantine threshold, in seconds."
    )
    fingerprint_max_pixels: int = Field(
        default=100_000_000,
        ge=1,
        description=(
            "Largest image (width x height) that is decoded; bigger ones are refused as "
            "possible decompression bombs."
        ),
    )
    fingerprint_max_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="Largest media file read, in bytes."
    )
    fingerprint_max_jpeg_scans: int = Field(
        default=256,
        ge=1,
        description="Most scans a progressive JPEG may have before it is refused as hostile.",
    )
    fingerprint_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Seconds one file may take to hash; a worker past it is stopped.",
    )

    evidence_signing_key: SecretStr | None = Field(
        default=None,
        description=(
            "Ed25519 private key (32 bytes, base64) that signs the evidence ledger's tree "
            "heads and export manifests. Required outside development; make one with "
            "`chorus evidence keygen`. In development a key is made and kept in "
            "<data_dir>/dev-keys.json."
        ),
    )
    evidence_trusted_public_keys: list[str] = Field(
        default_factory=list,
        description=(
            "Public keys (base64, JSON list) of earlier signing keys, still trusted for tree "
            "heads they signed before a key rotation."
        ),
    )
    evidence_master_key: SecretStr | None = Field(
        default=None,
        description=(
            "AES-256 key (32 bytes, base64) that wraps each case's data key; captures and "
            "event payloads are encrypted with the data keys. Required outside development."
        ),
    )
    evidence_previous_master_keys: list[SecretStr] = Field(
        default_factory=list,
        description=(
            "Earlier master keys (base64, JSON list), still used to unwrap data keys wrapped "
            "before a rotation."
        ),
    )
    evidence_max_capture_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="Largest evidence capture stored, in bytes."
    )
    evidence_tsa_url: str | None = Field(
        default=None,
        description=(
            "RFC 3161 timestamp authority URL. When set, every export carries a timestamp "
            "token over its manifest."
        ),
    )
    evidence_sign_interval_s: int = Field(
        default=3600,
        ge=0,
        description=(
            "How often `chorus serve` signs a new tree head when the ledger has grown, in "
            "seconds; 0 turns it off."
        ),
    )
    evidence_tsa_timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds to wait for the timestamp authority."
    )

    monitor_allowed_networks: list[str] = Field(
        default_factory=list,
        description=(
            'Addresses or networks (JSON list, e.g. ["127.0.0.1"]) the monitor may fetch '
            "although they are private, loopback or link-local. Empty: public addresses only."
        ),
    )
    monitor_in_serve: bool = Field(
        default=True,
        description="Run the site monitor inside `chorus serve` (or alone: `chorus monitor run`).",
    )
    monitor_request_interval_s: float = Field(
        default=1.0, ge=0, description="Least time between two requests to one host, seconds."
    )
    monitor_interval_s: int = Field(
        default=60, ge=1, description="How often a watched page or thread is fetched again."
    )
    monitor_recheck_interval_s: int = Field(
        default=600,
        ge=1,
        description="How often every URL of a present sighting is checked for removal.",
    )
    monitor_seen_cache: int = Field(
        default=20_000,
        ge=0,
        description="Media URLs whose lookups the monitor remembers (about 7 KB each with "
        "the local signal's features, 20 KB for a screenshot).",
    )
    intake_draft_ttl_s: int = Field(
        default=30 * 24 * 3600,
        ge=60,
        description="How long a report saved part-way on the web form is kept.",
    )
    deletion_grace_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="How long a survivor can change their mind after asking for deletion.",
    )
    quick_exit_url: str = Field(
        default="https://www.bbc.co.uk/weather",
        pattern=r"^https://",
        description="The neutral page 'Leave this page quickly' goes to.",
    )
    staff_session_max_age_s: int = Field(
        default=30 * 60,
        ge=60,
        le=12 * 3600,
        description="How long a staff sign-in (password + TOTP) lasts before signing in again.",
    )

    duty_contact_name: str | None = Field(
        default=None,
        max_length=120,
        description=(
            "Name of the person (or named duty role) every new case shows as its contact "
            "until a caseworker assigns one. Required in production; development and test "
            "show a placeholder."
        ),
    )
    duty_contact_unit: str | None = Field(
        default=None,
        max_length=200,
        description="The duty contact's unit or organisation. Required in production.",
    )
    duty_contact_reach: str | None = Field(
        default=None,
        max_length=300,
        description=(
            "How survivors reach the duty contact, with hours (e.g. '0300 123 4567, "
            "weekdays 9am to 5pm'). Required in production."
        ),
    )
    connections_min_lists: int = Field(
        default=2,
        ge=2,
        description=(
            "Common connections in a series show a person only when they are on at least "
            "this many survivors' lists of people who had access (never fewer than 2)."
        ),
    )

    def duty_contact(self) -> tuple[str, str, str]:
        """(name, unit, how to reach) of the duty contact; a placeholder outside production."""
        given = (self.duty_contact_name, self.duty_contact_unit, self.duty_contact_reach)
        if all(v and v.strip() for v in given):
            return (given[0] or "", given[1] or "", given[2] or "")
        if self.env == "production":
            raise ConfigError(_DUTY_CONTACT_MISSING)
        return ("The duty caseworker", f"Chorus ({self.env})",
                "Not set: CHORUS_DUTY_CONTACT_REACH")  # fmt: skip

    takedown_dns_servers: list[str] = Field(
        default_factory=list,
        description=(
            'DNS servers recipient discovery asks (JSON list, e.g. ["192.0.2.53", '
            '"127.0.0.1:5353"]). Empty: the system\'s resolver configuration.'
        ),
    )
    takedown_rdap_bootstrap_dir: Path | None = Field(
        default=None,
        description=(
            "Folder with the RDAP bootstrap files (dns.json, ipv4.json, ipv6.json, asn.json). "
            "Empty: a copy made by `chorus takedown refresh-bootstrap` in <data_dir>, else "
            "the snapshot shipped with Chorus."
        ),
    )
    takedown_cdn_ranges_file: Path | None = Field(
        default=None,
        description="JSON file of CDN address ranges. Empty: the file shipped with Chorus.",
    )
    takedown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds one discovery request (DNS, RDAP, security.txt, page) may take.",
    )
    takedown_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest RDAP answer discovery reads, in bytes.",
    )

    takedown_notifier_name: str = Field(
        default="",
        description=(
            "Who sends takedown notices (the helpline's name); a notice whose regime needs "
            "it is not sent while it is empty."
        ),
    )
    takedown_notifier_email: str = Field(
        default="", description="The email address takedown notices give for replies."
    )
    takedown_notifier_address: str = Field(
        default="", description="The postal address for notices that need one (DMCA)."
    )
    takedown_notifier_phone: str = Field(
        default="", description="A phone number for notices (optional)."
    )
    takedown_mail_from: str = Field(
        default="",
        description="The From address of notices sent by email; empty: the notifier email.",
    )
    smtp_host: str = Field(
        default="",
        description=(
            "Mail server (SMTP) for takedown notices and the neutral notes to survivors; "
            "empty: email is off (notices go by web form pack or are marked sent by hand, "
            "survivors' notes wait and the case page says so)."
        ),
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the mail server.")
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "How the mail connection is encrypted: 'starttls', 'tls' (implicit, port 465) or "
            "'none' (refused outside development unless the server is on this machine)."
        ),
    )
    smtp_username: str = Field(
        default="", description="User name for the mail server; empty: no authentication."
    )
    smtp_password: SecretStr | None = Field(
        default=None,
        description="Password for the mail server (never defaulted; required with a user name).",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description=(
            "CA certificates (PEM) to trust for the mail server instead of the system's, e.g. "
            "a private relay's; empty: the system's trusted authorities."
        ),
    )
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the mail server."
    )
    survivor_mail_from: str = Field(
        default="",
        description=(
            "The From address of the neutral notes to survivors who chose email (a neutral "
            "name and address: someone else may see their inbox). Empty: no email notes are "
            "sent; they wait, and the case page says so."
        ),
    )
    survivor_notes_interval_s: float = Field(
        default=60.0,
        ge=0,
        description=(
            "How often `chorus serve` sends the neutral notes waiting for survivors who "
            "chose email, in seconds; 0 turns it off."
        ),
    )
    takedown_renotice_after_s: int = Field(
        default=24 * 3600,
        ge=60,
        description=(
            "How long after a notice with no verified removal a re-notice is sent; a "
            "re-notice with no removal after as long again proposes the next escalation."
        ),
    )
    takedown_advance_interval_s: float = Field(
        default=300.0,
        ge=0,
        description=(
            "How often `chorus serve` advances takedowns (removals, re-notices, escalation "
            "proposals, re-openings), in seconds; 0 turns it off."
        ),
    )

    def require_secrets(self) -> None:
        """Refuse to go on (ConfigError) when a secret is missing or weak outside development.

        Called by everything that serves or stores data (``create_app``); commands that only
        read local files, such as ``chorus hash``, need no secret.
        """
        if self.env == "development":
            return
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.strip().lower() in _KNOWN_WEAK_SECRETS or len(key) < _MIN_SECRET_LENGTH:
            raise ConfigError(
                f"CHORUS_SECRET_KEY must be set to a random value of at least "
                f"{_MIN_SECRET_LENGTH} characters when CHORUS_ENV is '{self.env}'. Generate "
                "one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        for name in ("evidence_signing_key", "evidence_master_key"):
            value: SecretStr | None = getattr(self, name)
            if value is None or not _is_32_byte_key(value.get_secret_value()):
                raise ConfigError(
                    f"CHORUS_{name.upper()} must be set to a 32-byte key in base64 when "
                    f"CHORUS_ENV is '{self.env}'. Generate both evidence keys with: "
                    "chorus evidence keygen"
                )
        if self.env == "production":
            self.duty_contact()
        self.require_safe_mail()

    def require_safe_mail(self) -> None:
        host = self.smtp_host.strip()
        if not host:
            return
        if self.smtp_username and self.smtp_password is None:
            raise ConfigError(
                "CHORUS_SMTP_PASSWORD must be set when CHORUS_SMTP_USERNAME "
                "is; credentials are never defaulted."
            )
        if self.smtp_tls == "none" and host not in {"127.0.0.1", "::1", "localhost"}:
            raise ConfigError(
                f"CHORUS_SMTP_TLS is 'none' for {host}: mail would cross the "
                "network unencrypted. Use 'starttls' or 'tls', or a mail server on this machine."
            )

    @cached_property
    def effective_secret_key(self) -> str:
        """The secret key; in development only, a random one made for this process."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return secrets.token_urlsafe(48)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chorus.db').resolve()}"

    def fingerprint_limits(self) -> Limits:
        return Limits(
            max_pixels=self.fingerprint_max_pixels,
            max_bytes=self.fingerprint_max_bytes,
            max_jpeg_scans=self.fingerprint_max_jpeg_scans,
            timeout_s=self.fingerprint_timeout_s,
        )


def _is_32_byte_key(value: str) -> bool:
    import base64
    import binascii

    text = value.strip()
    try:
        return len(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")) == 32
    except (binascii.Error, ValueError):
        return False


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation failures into ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"Invalid settings: {exc}") from exc
