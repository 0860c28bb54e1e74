"""URL normalisation for linking: two spellings of one place give one key.

Scheme, host case, ``www.``, default ports, trailing slashes, tracking parameters and
fragments are dropped; on image boards, the board and thread number identify a thread
whatever the (mirror) domain, so ``/b/thread/123`` on any host is ``thread:b/123``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|mc_cid|mc_eid|igshid|si|ref|ref_src|s)$")
# /{board}/thread/{no}[...], /{board}/res/{no}.html, 4chan JSON /{board}/thread/{no}.json
_THREAD = re.compile(
    r"^/(?P<board>[A-Za-z0-9_]{1,32})/(?:thread|res)/(?P<no>\d{1,20})(?:\.json|\.html)?(?:/.*)?$"
)


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


@lru_cache(maxsize=65536)
def normalize(url: str) -> str | None:
    """A canonical form of ``url`` (no scheme), or None when it is not a web address."""
    text = url.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)", text):
            return None  # mailto:, javascript:, data: ...
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return None
    host = _host(parts.netloc)
    if not host or " " in host:
        return None
    path = re.sub(r"/{2,}", "/", unquote(parts.path) or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not TRACKING.match(k.lower())]  # fmt: skip
    canonical = host + (path if path != "/" else "")
    if query:
        canonical += "?" + urlencode(sorted(query))
    return canonical


def thread_key(url: str) -> str | None:
    """``thread:{board}/{number}`` for an image-board thread URL on any domain, else None."""
    canonical = normalize(url)
    if canonical is None:
        return None
    path = "/" + canonical.split("/", 1)[1].split("?", 1)[0] if "/" in canonical else "/"
    match = _THREAD.match(path)
    return f"thread:{match['board'].lower()}/{match['no']}" if match else None


def site_key(url: str) -> str | None:
    """The site (registrable-ish host) of a URL: a hub on its own, never a link by itself."""
    canonical = normalize(url)
    return canonical.split("/", 1)[0].split("?", 1)[0] if canonical else None


def is_site_root(url: str) -> bool:
    canonical = normalize(url)
    return canonical is not None and "/" not in canonical and "?" not in canonical
