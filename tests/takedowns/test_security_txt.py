"""security.txt (RFC 9116): valid, expired, malformed, missing, signed, in the old place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chorus.errors import DiscoveryError
from chorus.takedowns import security_txt
from chorus.takedowns.recipient import Confidence, RecipientRole

from . import site_fixtures
from .discovery_lab import Lab


def site_recipients(lab: Lab, host: str) -> tuple[list, list[str]]:  # type: ignore[type-arg]
    with lab.discoverer() as discoverer:
        result = discoverer.run(lab.url(host))
    site = [r for r in result.recipients if r.role == RecipientRole.SITE]
    reasons = [f.reason for f in result.failures if f.source == "security.txt"]
    return site, reasons


def test_valid_file_is_a_high_confidence_contact(lab: Lab) -> None:
    site, reasons = site_recipients(lab, "valid.test")
    assert reasons == []
    assert site[0].source.endswith("/.well-known/security.txt")
    assert site[0].confidence == Confidence.HIGH
    assert any("reporting policy: https://valid.test/policy" in n for n in site[0].notes)
    # served over http on a test port, so not at its canonical address: said plainly
    assert any("it may have been copied" in n for n in site[0].notes)


def test_expired_file_is_offered_with_a_note(lab: Lab) -> None:
    site, reasons = site_recipients(lab, "expired.test")
    assert reasons == []
    first = site[0]
    assert first.email == "old-security@expired.test" and first.confidence == Confidence.MEDIUM
    assert any("expired on 01 January 2020" in n for n in first.notes)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("malformed.test", "no usable Contact field"),
        ("missing.test", "/security.txt: HTTP 404"),
        ("soft404.test", "served as text/html"),
    ],
)
def test_unusable_files_fail_the_source_only(lab: Lab, host: str, reason: str) -> None:
    site, reasons = site_recipients(lab, host)
    assert len(reasons) == 1 and reason in reasons[0], reasons
    assert [r.email for r in site] == [f"abuse@{host}"]  # abuse@ still offered


def test_legacy_location_and_signed_file(lab: Lab) -> None:
    site, _ = site_recipients(lab, "legacy.test")
    assert site[0].email == "security@legacy.test" and site[0].source.endswith("/security.txt")
    signed, _ = site_recipients(lab, "signed.test")
    assert signed[0].email == "team@signed.test"
    assert any("did not check the signature" in n for n in signed[0].notes)


def test_parse_details() -> None:
    parsed = security_txt.parse(site_fixtures.VALID, "https://valid.test/.well-known/security.txt")
    assert parsed.emails == ["security@valid.test"] and parsed.web == ["https://valid.test/report"]
    assert parsed.languages == ("en", "nl") and parsed.policy == ("https://valid.test/policy",)
    assert parsed.expires == datetime(2099, 1, 1, tzinfo=UTC) and parsed.problems == ()

    crlf = b"Contact: tel:+44-20-7946-0000\r\nExpires: 2099-01-01T00:00:00+01:00\r\n"
    assert security_txt.parse(crlf, "u").phones == ["+44-20-7946-0000"]

    twice = (
        b"Contact: mailto:a@b.test\nExpires: 2099-01-01T00:00:00Z\nExpires: 2098-01-01T00:00:00Z\n"
    )
    assert "exactly one Expires" in security_txt.parse(twice, "u").problems[0]
    http_only = b"Contact: http://insecure.test/report\nExpires: 2099-01-01T00:00:00Z\n"
    with pytest.raises(DiscoveryError, match="no usable Contact"):
        security_txt.parse(http_only, "u")  # RFC 9116: web contacts must be https
    with pytest.raises(DiscoveryError, match="not a text file"):
        security_txt.parse(b"\x00\x01PNG", "u")
