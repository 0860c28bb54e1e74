"""security.txt (RFC 9116): the contact a site publishes for reports about it.

The file is looked for at ``/.well-known/security.txt``, then ``/security.txt`` (RFC 9116
s3). It is parsed leniently but judged strictly: without a ``Contact`` it is unusable;
without a valid ``Expires``, or past it, its contacts are still offered, with less
confidence and a plain note. A PGP-signed file is read; the signature is not checked
(Chorus has no key to check it against), which the note says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from chorus.errors import DiscoveryError, FetchFailedError, FetchRefusedError
from chorus.monitor.fetch import Fetcher
from chorus.takedowns.rdap import clean, email_address, phone_number

PATHS = ("/.well-known/security.txt", "/security.txt")
MAX_BYTES = 32 * 1024
MAX_LINES = 500


@dataclass(frozen=True)
class SecurityTxt:
    url: str
    contacts: tuple[str, ...]
    expires: datetime | None
    policy: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    canonical: tuple[str, ...] = ()
    signed: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now

    @property
    def emails(self) -> list[str]:
        found = (email_address(c) for c in self.contacts if c.lower().startswith("mailto:"))
        return [e for e in found if e]

    @property
    def web(self) -> list[str]:
        return [c for c in self.contacts if c.lower().startswith("https://")]

    @property
    def phones(self) -> list[str]:
        found = (phone_number(c) for c in self.contacts if c.lower().startswith("tel:"))
        return [p for p in found if p]


def _unsign(text: str) -> tuple[str, bool]:
    """The message of an OpenPGP cleartext-signed file (RFC 4880 s7), dash-escapes undone."""
    if not text.lstrip().startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        return text, False
    body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    body = body.split("-----BEGIN PGP SIGNATURE-----", 1)[0]
    lines = [line[2:] if line.startswith("- ") else line for line in body.split("\n")]
    return "\n".join(lines), True


def _parse_time(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse(body: bytes, url: str) -> SecurityTxt:
    """Read a security.txt; DiscoveryError when it is not one (no usable Contact)."""
    if b"\x00" in body:
        raise DiscoveryError(f"{url} is not a text file.")
    text, signed = _unsign(body.decode("utf-8", "replace").replace("\r\n", "\n"))
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        raise DiscoveryError(f"{url} is a web page, not a security.txt file.")
    fields: dict[str, list[str]] = {}
    problems: list[str] = []
    for number, line in enumerate(text.split("\n")[:MAX_LINES], start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            problems.append(f"line {number} is not 'Field: value'")
            continue
        fields.setdefault(name.strip().lower(), []).append(clean(value, 500))
    contacts = tuple(
        c for c in fields.get("contact", [])
        if c.lower().startswith(("mailto:", "tel:", "https://"))
    )  # fmt: skip
    if not contacts:
        raise DiscoveryError(f"{url} has no usable Contact field (RFC 9116 requires one).")
    expires_values = fields.get("expires", [])
    expires = _parse_time(expires_values[0]) if len(expires_values) == 1 else None
    if len(expires_values) != 1:
        problems.append("it should have exactly one Expires field")
    elif expires is None:
        problems.append("its Expires date cannot be read")
    languages = tuple(
        lang.strip() for v in fields.get("preferred-languages", []) for lang in v.split(",")
    )
    return SecurityTxt(
        url=url, contacts=contacts, expires=expires,
        policy=tuple(fields.get("policy", [])), languages=tuple(filter(None, languages)),
        canonical=tuple(fields.get("canonical", [])), signed=signed, problems=tuple(problems),
    )  # fmt: skip


def fetch(fetcher: Fetcher, origin: str) -> SecurityTxt:
    """The site's security.txt, trying both places; DiscoveryError saying why if none."""
    reasons = []
    for path in PATHS:
        url = origin + path
        try:
            got = fetcher.get(url, max_bytes=MAX_BYTES)
        except (FetchFailedError, FetchRefusedError) as exc:
            reasons.append(f"{path}: {exc.message}")
            continue
        if got.status != 200:
            reasons.append(f"{path}: HTTP {got.status}")
            continue
        content_type = got.headers.get("content-type", "text/plain").lower()
        if not content_type.startswith("text/plain"):
            reasons.append(f"{path}: served as {content_type.split(';')[0]}, not text/plain")
            continue
        try:
            return parse(got.body, got.url)
        except DiscoveryError as exc:
            reasons.append(f"{path}: {exc.message}")
    raise DiscoveryError("No usable security.txt (" + "; ".join(reasons) + ").")
