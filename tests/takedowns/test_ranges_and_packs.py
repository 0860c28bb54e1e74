"""CDN range matching (property-tested against a brute-force scan), bootstrap files,
DNS server settings and search-engine delisting packs."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.errors import DiscoveryError
from chorus.takedowns import bootstrap, cdn, search_engines
from chorus.takedowns.resolver import parse_server

SHIPPED = json.loads(cdn.SHIPPED.read_text())
NETWORKS = [(ipaddress.ip_network(r), p["name"]) for p in SHIPPED["providers"] for r in p["ranges"]]
RANGES = cdn.load()


def brute_force(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    hits = [(n.prefixlen, name) for n, name in NETWORKS if n.version == address.version
            and address in n]  # fmt: skip
    return max(hits)[1] if hits else None


def near_edges() -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Addresses at and around each range's first and last address, and anywhere at all."""
    edges = []
    for network, _ in NETWORKS:
        for base in (int(network.network_address), int(network.broadcast_address)):
            for delta in (-1, 0, 1):
                edges.append((network.version, base + delta))
    edge = st.sampled_from(edges).map(lambda e: ipaddress.ip_address(e[1]) if e[0] == 4
                                      else ipaddress.IPv6Address(e[1]))  # fmt: skip
    anywhere = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
    return st.one_of(edge, anywhere)


@settings(max_examples=400, deadline=None)
@given(near_edges())
def test_range_membership_matches_brute_force(address) -> None:  # type: ignore[no-untyped-def]
    found = RANGES.provider_for(address)
    assert (found.name if found else None) == brute_force(address)


def test_cloudflare_edges_and_nested_ranges() -> None:
    assert RANGES.provider_for(ipaddress.ip_address("104.16.0.0")).name == "Cloudflare"  # type: ignore[union-attr]
    assert RANGES.provider_for(ipaddress.ip_address("104.23.255.255")).name == "Cloudflare"  # type: ignore[union-attr]
    assert RANGES.provider_for(ipaddress.ip_address("104.28.0.0")) is None
    assert RANGES.provider_for(ipaddress.ip_address("2606:4700::6810:1")) is not None
    nested = cdn.parse({"providers": [
        {"name": "Wide", "source": "t", "ranges": ["10.0.0.0/8", "10.9.0.0/16"]},
        {"name": "Narrow", "source": "t", "ranges": ["10.1.2.0/24"]},
    ]}, "t")  # fmt: skip
    assert nested.provider_for(ipaddress.ip_address("10.1.2.3")).name == "Narrow"  # type: ignore[union-attr]
    assert nested.provider_for(ipaddress.ip_address("10.200.0.1")).name == "Wide"  # type: ignore[union-attr]
    with pytest.raises(DiscoveryError, match="malformed"):
        cdn.parse({"providers": [{"name": "X", "source": "t", "ranges": ["not-a-range"]}]}, "t")


def test_shipped_bootstrap_and_lookups(tmp_path: Path) -> None:
    shipped = bootstrap.load(None, tmp_path)
    assert shipped.origin == str(bootstrap.SHIPPED)
    assert shipped.for_domain("board.example.com") == ("https://rdap.verisign.com/com/v1/",)
    assert shipped.for_domain("x.io")  # from whoisit's list of corrections
    assert shipped.for_domain("nowhere.invalid") == ()
    assert shipped.for_address(ipaddress.ip_address("203.0.113.9"))[0].startswith("https://")
    assert shipped.for_address(ipaddress.ip_address("2001:db8::1"))
    assert shipped.for_asn(13335)
    assert (bootstrap.SHIPPED / "PROVENANCE.md").exists()


def test_bootstrap_longest_suffix_https_first_and_malformed(tmp_path: Path) -> None:
    docs = {
        "dns": {"services": [[["uk"], ["https://uk.test/"]],
                             [["co.uk"], ["http://co-uk.test/", "https://co-uk.test/"]]]},
        "ipv4": {"services": [[["10.0.0.0/8"], ["https://wide.test"]],
                              [["10.1.0.0/16"], ["https://narrow.test"]]]},
        "ipv6": {"services": []}, "asn": {"services": [[["100-200"], ["https://as.test/"]]]},
    }  # fmt: skip
    parsed = bootstrap.parse(docs, "t")  # type: ignore[arg-type]
    assert parsed.for_domain("a.b.co.uk") == ("https://co-uk.test/", "http://co-uk.test/")
    assert parsed.for_domain("gov.uk") == ("https://uk.test/",)
    assert parsed.for_address(ipaddress.ip_address("10.1.2.3")) == ("https://narrow.test/",)
    assert parsed.for_asn(150) == ("https://as.test/",) and parsed.for_asn(201) == ()
    for kind in bootstrap.KINDS:
        (tmp_path / f"{kind}.json").write_text(json.dumps(docs[kind]))
    (tmp_path / "asn.json").write_text('{"services": [["oops"]]}')
    with pytest.raises(DiscoveryError, match="malformed"):
        bootstrap.load_dir(tmp_path)
    (tmp_path / "asn.json").write_text("{")
    with pytest.raises(DiscoveryError, match="cannot be read"):
        bootstrap.load_dir(tmp_path)


def test_dns_server_setting_forms() -> None:
    assert (parse_server("127.0.0.1:5353").address, parse_server("127.0.0.1:5353").port) == (
        "127.0.0.1", 5353,
    )  # fmt: skip
    assert parse_server("2001:db8::53").port == 53
    assert parse_server("[2001:db8::53]:5300").port == 5300
    for bad in ("dns.example", "127.0.0.1:x", "127.0.0.1:70000"):
        with pytest.raises(DiscoveryError):
            parse_server(bad)


def test_delisting_packs() -> None:
    packs = search_engines.delisting_packs(
        ["https://board.test/b/1"], ["https://board.test/i/1.jpg"], "gb",
        results_urls=["https://www.google.com/search?q=board"],
    )  # fmt: skip
    assert [p.engine for p in packs] == ["Google", "Bing"]
    google = {f.label: f.value for f in packs[0].fields}
    assert google["Country of residence"] == "GB"
    assert google["Web pages showing the images"] == "https://board.test/b/1"
    assert google["Image addresses"] == "https://board.test/i/1.jpg"
    assert google["Full name"] is None  # only the person, or as they agreed
    assert google["The images are intimate and were shared without consent"] is None
    assert any("No screenshots" in c for c in packs[0].checklist)
    assert not any("screenshot" in f.label.lower() for p in packs for f in p.fields)

    with pytest.raises(DiscoveryError, match="under 18") as minor:
        search_engines.delisting_packs(["https://board.test/b/1"], [], "GB",
                                       minor_may_be_involved=True)  # fmt: skip
    assert "Internet Watch Foundation" in minor.value.message
    with pytest.raises(DiscoveryError, match="two-letter"):
        search_engines.delisting_packs(["https://board.test/b/1"], [], "Britain")
    with pytest.raises(DiscoveryError, match="not a web address"):
        search_engines.delisting_packs(["javascript:alert(1)"], [], "GB")
    with pytest.raises(DiscoveryError, match="at least one"):
        search_engines.delisting_packs([], [], "GB")


def test_registered_domain() -> None:
    from chorus.takedowns.site import registered_domain

    assert registered_domain("board.example.co.uk") == "example.co.uk"
    assert registered_domain("someone.github.io") == "github.io"  # the platform's domain
    assert registered_domain("WWW.Example.COM.") == "example.com"
    assert registered_domain("192.0.2.1") is None and registered_domain("::1") is None
    assert registered_domain("localhost") is None
