"""The SSRF guard looks inside IPv6 addresses that carry an IPv4 one (NAT64, 6to4, Teredo,
the old IPv4-compatible form): a DNS answer that hides a private or loopback address that
way is refused before any connection, as the plain address would be."""

from __future__ import annotations

import ipaddress

import pytest

from chorus.errors import FetchRefusedError
from chorus.monitor.fetch import Fetcher, FetchPolicy


@pytest.mark.parametrize(
    "answer",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    ],
)
def test_private_ipv4_inside_ipv6_is_refused(answer: str) -> None:
    fetcher = Fetcher(FetchPolicy(timeout_s=2), resolver=lambda _host: [answer])
    with fetcher, pytest.raises(FetchRefusedError, match="private or reserved"):
        fetcher.get("http://copy.example/b/1.jpg")


def test_a_public_ipv6_is_still_allowed() -> None:
    fetcher = Fetcher(FetchPolicy(timeout_s=2))
    assert fetcher._allowed(ipaddress.ip_address("2606:4700::6810:84e5"))
    assert fetcher._allowed(ipaddress.ip_address("64:ff9b::808:808"))  # 8.8.8.8
    fetcher.close()
