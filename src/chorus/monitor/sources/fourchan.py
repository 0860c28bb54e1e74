"""The 4chan-style JSON API that many boards copy.

``/{board}/catalog.json`` lists threads; ``/{board}/thread/{no}.json`` lists posts; a post
with a file has ``tim`` and ``ext``: the file is ``/{board}/{tim}{ext}`` (on the media
host, the same host by default) and its thumbnail ``/{board}/{tim}s.jpg``.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from chorus.errors import MonitorError
from chorus.monitor.fetch import Fetched
from chorus.monitor.sources.base import MAX_TEXT, Listing, MediaRef, Source

_THREAD = re.compile(r"^/(?P<board>[A-Za-z0-9_]{1,32})/thread/(?P<no>\d{1,20})\.json$")
_CATALOG = re.compile(r"^/(?P<board>[A-Za-z0-9_]{1,32})/catalog\.json$")
_EXT = re.compile(r"^\.[A-Za-z0-9]{2,5}$")
_TAGS = re.compile(r"<[^>]{0,500}>")


def _text(html: str) -> str:
    return " ".join(unescape(_TAGS.sub(" ", html.replace("<br>", "\n"))).split())[:MAX_TEXT]


class FourChanJson(Source):
    kind = "4chan"

    def __init__(self, media_origin: str | None = None) -> None:
        self.media_origin = media_origin

    def read(self, fetched: Fetched) -> Listing:
        parts = urlsplit(fetched.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        try:
            data: Any = json.loads(fetched.body)
        except ValueError as exc:
            raise MonitorError("This board answered with something that is not JSON.") from exc
        if match := _CATALOG.match(parts.path):
            board = match["board"]
            pages = data if isinstance(data, list) else []
            threads = [
                f"{origin}/{board}/thread/{int(t['no'])}.json"
                for page in pages
                if isinstance(page, dict)
                for t in page.get("threads", [])
                if isinstance(t, dict) and isinstance(t.get("no"), int)
            ]
            return Listing(pages=threads)
        if not (match := _THREAD.match(parts.path)):
            raise MonitorError("A 4chan-style source is a catalog.json or thread/N.json URL.")
        board, number = match["board"], match["no"]
        media_origin = self.media_origin or origin
        posts = data.get("posts", []) if isinstance(data, dict) else []
        opening = posts[0] if posts and isinstance(posts[0], dict) else {}
        context = _text(str(opening.get("sub", ""))) + " " + _text(str(opening.get("com", "")))
        media = []
        for post in posts:
            if not isinstance(post, dict):
                continue
            tim, ext = post.get("tim"), post.get("ext")
            if not isinstance(tim, int) or not isinstance(ext, str) or not _EXT.match(ext):
                continue
            media.append(
                MediaRef(
                    url=f"{media_origin}/{board}/{tim}{ext}",
                    page_url=f"{origin}/{board}/thread/{number}",
                    thumbnail_url=f"{media_origin}/{board}/{tim}s.jpg",
                    api_url=fetched.url,
                    post_id=str(post.get("no", "")),
                    thread=f"{board}/{number}",
                    text=_text(str(post.get("com", ""))) + " " + _text(str(post.get("sub", ""))),
                    context=context if post is not opening else "",
                )
            )
        return Listing(media=media)
