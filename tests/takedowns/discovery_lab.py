"""Discovery lab: a DNS server, an RDAP server and web sites, all on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chorus.config import Settings
from chorus.takedowns import cdn
from chorus.takedowns.discovery import Discoverer

from . import rdap_fixtures, site_fixtures
from .servers import Served, dns_server, http_server

SITES = ("valid.test", "expired.test", "malformed.test", "signed.test", "soft404.test",
         "legacy.test", "missing.test", "loop.test")  # fmt: skip
#: Hosts whose address leads the host RDAP look-up into each broken case.
HOSTS = {
    "noabuse.test": "127.0.0.2", "gone.test": "127.0.0.3", "slow.test": "127.0.0.4",
    "garbled.test": "127.0.0.5", "huge.test": "127.0.0.6", "mute.test": "127.0.0.7",
    "cdn.test": "127.0.0.8", "linked.test": "127.0.0.9", "hostile.test": "127.0.0.10",
    "redirect.test": "127.0.0.1", "nameless.test": "127.0.0.1",
    "broken-referral.test": "127.0.0.1",
}  # fmt: skip
RECORDS = {**{s: ["127.0.0.1"] for s in SITES}, **{h: [a] for h, a in HOSTS.items()}}
RECORDS["valid.test"] = ["127.0.0.1", "::1"]
TIMEOUT_S = 0.5


@dataclass
class Lab:
    settings: Settings
    rdap: Served
    site: Served
    site_port: int

    def url(self, host: str, path: str = "/b/thread/1") -> str:
        return f"http://{host}:{self.site_port}{path}"

    def discoverer(self) -> Discoverer:
        # The test CDN: 127.0.0.8 stands for an edge address (the real ranges are tested
        # on their own); the shipped file is used everywhere else.
        test_cdn = cdn.parse(
            {"providers": [{
                "name": "Cloudflare", "source": "test range", "abuse_form_url":
                "https://abuse.cloudflare.com/", "ranges": ["127.0.0.8/32"],
                "notes": ["Ask Cloudflare who the hosting provider is."],
            }]},
            "test",
        )  # fmt: skip
        return Discoverer(self.settings, cdn_ranges=test_cdn)


def write_bootstrap(folder: Path, base: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "dns": [[["test"], [base + "/"]]],
        "ipv4": [[["127.0.0.0/8"], [base + "/"]]],
        "ipv6": [[["::1/128"], [base + "/"]]],
        "asn": [[["64496-64511"], [base + "/"]]],
    }
    for kind, services in files.items():
        doc = {"version": "1.0", "publication": "2026-12-01T00:00:00Z", "services": services}
        (folder / f"{kind}.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with (
        dns_server(RECORDS) as dns_port,
        http_server(site_fixtures.route) as site,
        http_server(lambda h, p: route(h, p)) as rdap,
    ):
        route = rdap_fixtures.route(rdap.base)
        folder = tmp_path_factory.mktemp("discovery")
        settings = Settings(
            env="test", data_dir=folder,
            takedown_dns_servers=[f"127.0.0.1:{dns_port}"],
            takedown_rdap_bootstrap_dir=write_bootstrap(folder / "bootstrap", rdap.base),
            takedown_timeout_s=TIMEOUT_S, takedown_max_bytes=64 * 1024,
            monitor_allowed_networks=["127.0.0.0/8", "::1"], monitor_request_interval_s=0,
        )  # fmt: skip
        yield Lab(settings, rdap, site, site.port)
