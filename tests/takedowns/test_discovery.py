"""Discovery end to end against local DNS, RDAP and web servers: good and broken sources."""

from __future__ import annotations

import time

import pytest

from chorus.errors import DiscoveryError
from chorus.takedowns.discovery import DiscoveryResult
from chorus.takedowns.recipient import Confidence, RecipientRole

from .discovery_lab import Lab


def run(lab: Lab, host: str) -> DiscoveryResult:
    with lab.discoverer() as discoverer:
        return discoverer.run(lab.url(host))


def by_role(result: DiscoveryResult, role: RecipientRole) -> list:  # type: ignore[type-arg]
    return [r for r in result.recipients if r.role == role]


def failed(result: DiscoveryResult, prefix: str) -> list[str]:
    return [f.reason for f in result.failures if f.source.startswith(prefix)]


def test_every_kind_of_recipient_with_source_and_confidence(lab: Lab) -> None:
    result = run(lab, "valid.test")
    assert result.domain == "valid.test"
    assert result.addresses == ["127.0.0.1", "::1"]

    site = by_role(result, RecipientRole.SITE)
    assert [r.confidence for r in site] == [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW]
    security, pages, mailbox = site
    assert security.email == "security@valid.test"
    assert security.web_form_url == "https://valid.test/report"
    assert security.source.startswith("security.txt http://valid.test:")
    assert any("en, nl" in n for n in security.notes)
    assert pages.web_form_url and pages.web_form_url.endswith("/legal/abuse")  # abuse first
    assert pages.email == "admin@valid.test"
    assert mailbox.email == "abuse@valid.test" and "RFC 2142" in mailbox.source

    hosts = by_role(result, RecipientRole.HOST)
    assert len(hosts) == 1  # IPv4 and IPv6 give the same abuse desk: listed once
    host = hosts[0]
    assert host.email == "abuse@hosting.test" and host.phone == "+31.205550100"
    assert host.confidence == Confidence.HIGH
    assert "Example Hosting B.V." in host.name and "EXAMPLE-HOSTING" in host.name
    assert host.source == f"RDAP {lab.rdap.base}/ip/127.0.0.1 (abuse contact)"
    assert any("AS64500" in n for n in host.notes)

    (registrar,) = by_role(result, RecipientRole.REGISTRAR)
    assert registrar.name == "Example Registrar, Inc."
    # the registrar's own RDAP answer (the referral) is preferred to the registry's copy
    assert registrar.email == "abuse-desk@registrar.test"
    assert registrar.source.endswith("/registrar/domain/valid.test (registrar abuse contact)")
    assert any("9999" in n for n in registrar.notes)

    engines = by_role(result, RecipientRole.SEARCH_ENGINE)
    assert [e.name for e in engines] == ["Google", "Bing"]
    assert all(e.web_form_url for e in engines)
    assert not by_role(result, RecipientRole.CDN) and result.cdn is None
    assert result.failures == []
    # escalation order: site, host, registrar, (cdn), then search engines
    roles = [r.role for r in result.recipients]
    assert roles == sorted(roles, key=[*RecipientRole].index)


def test_no_abuse_entity_falls_back_to_the_origin_as(lab: Lab) -> None:
    result = run(lab, "noabuse.test")
    (host,) = by_role(result, RecipientRole.HOST)
    assert host.email == "abuse@quiet.test"
    assert "AS64501" in host.source and "Quiet Hosting Ltd" in host.name
    assert any("no abuse contact" in r for r in failed(result, "host RDAP"))


def test_abuse_entity_given_by_link_is_fetched(lab: Lab) -> None:
    (host,) = by_role(run(lab, "linked.test"), RecipientRole.HOST)
    assert host.email == "abuse@linked.test" and host.confidence == Confidence.HIGH


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("gone.test", "not found (HTTP 404)"),
        ("slow.test", "took longer than"),
        ("garbled.test", "not valid JSON"),
        ("huge.test", "is over 65,536 bytes"),
        ("mute.test", "publishes no way to reach it"),
    ],
)
def test_broken_host_rdap_degrades_to_the_other_sources(lab: Lab, host: str, reason: str) -> None:
    started = time.monotonic()
    result = run(lab, host)
    assert time.monotonic() - started < 5
    assert not by_role(result, RecipientRole.HOST)
    reasons = failed(result, "host RDAP")
    assert reasons and any(reason in r or "ReadTimeout" in r for r in reasons), reasons
    # the other sources still answer
    assert [r.email for r in by_role(result, RecipientRole.SITE)] == [f"abuse@{host}"]
    assert by_role(result, RecipientRole.SEARCH_ENGINE)


def test_referral_loop_ends_and_is_reported(lab: Lab) -> None:
    result = run(lab, "loop.test")
    (registrar,) = by_role(result, RecipientRole.REGISTRAR)
    assert registrar.email == "abuse@registrar.test"  # from the registry's answer
    assert any("referral loop" in r for r in failed(result, "registrar RDAP"))


def test_redirect_loop_and_broken_referral_and_no_registrar(lab: Lab) -> None:
    looped = run(lab, "redirect.test")
    assert not by_role(looped, RecipientRole.REGISTRAR)
    assert any("redirects more than" in r for r in failed(looped, "registrar RDAP"))

    broken = run(lab, "broken-referral.test")
    (registrar,) = by_role(broken, RecipientRole.REGISTRAR)
    assert registrar.email == "abuse@registrar.test"
    assert any("/nowhere/" in r and "404" in r for r in failed(broken, "registrar RDAP"))

    nameless = run(lab, "nameless.test")
    assert not by_role(nameless, RecipientRole.REGISTRAR)
    assert any("names no registrar" in r for r in failed(nameless, "registrar RDAP"))


def test_cdn_address_routes_to_the_abuse_form_and_says_the_origin_is_hidden(lab: Lab) -> None:
    result = run(lab, "cdn.test")
    (edge,) = by_role(result, RecipientRole.CDN)
    assert edge.name == "Cloudflare" and edge.web_form_url == "https://abuse.cloudflare.com/"
    assert any("origin host is hidden" in n for n in edge.notes)
    assert result.cdn == "Cloudflare"
    assert not by_role(result, RecipientRole.HOST)  # the CDN's own network is not "the host"
    assert not any(p == "/ip/127.0.0.8" for _, p in lab.rdap.requests)


def test_unknown_name_and_address_urls(lab: Lab) -> None:
    result = run(lab, "nowhere.test")
    assert any("does not exist" in r for r in failed(result, "DNS"))
    assert by_role(result, RecipientRole.SITE)[-1].email == "abuse@nowhere.test"

    with lab.discoverer() as discoverer:
        literal = discoverer.run(f"http://127.0.0.1:{lab.site_port}/b/1")
    assert literal.domain is None
    assert by_role(literal, RecipientRole.HOST)
    assert any("no registrar" in f.reason for f in literal.failures)


@pytest.mark.parametrize(
    "bad", ["", "ftp://valid.test/x", "valid.test/thread", "http://", "http://[::1/x",
            "https://" + "a" * 3000 + ".test/"],
)  # fmt: skip
def test_bad_urls_are_refused_plainly(lab: Lab, bad: str) -> None:
    with lab.discoverer() as discoverer, pytest.raises(DiscoveryError) as refused:
        discoverer.run(bad)
    assert refused.value.message and "Traceback" not in refused.value.message  # said plainly


def test_a_sightings_urls_are_looked_up_once_per_site(lab: Lab) -> None:
    urls = [lab.url("valid.test", "/b/thread/7"), lab.url("valid.test", "/i/7.jpg"),
            lab.url("expired.test", "/t/7s.jpg")]  # fmt: skip
    before = len(lab.rdap.requests)
    with lab.discoverer() as discoverer:
        results = discoverer.run_many(urls)
        with pytest.raises(DiscoveryError):
            discoverer.run_many([urls[0], "not a url"])
    assert [r.url for r in results] == urls
    assert results[0].recipients == results[1].recipients
    assert results[2].recipients[0].email == "old-security@expired.test"
    asked = [p for _, p in lab.rdap.requests[before:]]
    assert asked.count("/ip/127.0.0.1") == 1  # valid.test and expired.test share an address
    assert asked.count("/domain/valid.test") == 1


def test_an_unexpected_bug_costs_one_group_of_sources_only(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise KeyError("a shape of answer nobody expected")

    monkeypatch.setattr("chorus.takedowns.registries.registrar", broken)
    result = run(lab, "valid.test")
    assert not by_role(result, RecipientRole.REGISTRAR)
    assert by_role(result, RecipientRole.HOST) and by_role(result, RecipientRole.SITE)
    (failure,) = result.failures
    assert failure.source == "registrar sources" and "logged" in failure.reason
