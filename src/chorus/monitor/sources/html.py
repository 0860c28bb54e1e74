"""A generic HTML page: <img src>, srcset, og:image, and links straight to media files."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from chorus.monitor.fetch import Fetched, blocked_service
from chorus.monitor.sources.base import MAX_TEXT, Listing, MediaRef, Source

MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".bmp")
MAX_MEDIA = 500


class _Collector(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[str] = []
        self.text: list[str] = []
        self._size = 0

    def _add(self, value: str | None) -> None:
        if value and len(self.found) < MAX_MEDIA:
            url = urljoin(self.base, value.strip())
            if urlsplit(url).scheme in ("http", "https") and not blocked_service(url):
                self.found.append(url.split("#", 1)[0])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"] or "")
        elif tag in ("img", "source"):
            self._add(values.get("src"))
            for candidate in (values.get("srcset") or "").split(","):
                self._add(candidate.strip().split(" ")[0] if candidate.strip() else None)
        elif tag == "meta" and values.get("property") in ("og:image", "og:image:url"):
            self._add(values.get("content"))
        elif tag == "a":
            href = values.get("href") or ""
            if urlsplit(href).path.lower().endswith(MEDIA_SUFFIXES):
                self._add(href)

    def handle_data(self, data: str) -> None:
        if self._size < MAX_TEXT:
            self.text.append(data)
            self._size += len(data)


class HtmlPage(Source):
    kind = "html"

    def read(self, fetched: Fetched) -> Listing:
        collector = _Collector(fetched.url)
        collector.feed(fetched.body.decode("utf-8", "replace"))
        collector.close()
        text = " ".join(" ".join(collector.text).split())[:MAX_TEXT]
        unique = list(dict.fromkeys(collector.found))
        return Listing(media=[MediaRef(url=u, page_url=fetched.url, text=text) for u in unique])
