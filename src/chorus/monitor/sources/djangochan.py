"""djangochan (PyPI ``djangochan``): its read-only REST API for discovery, its pages for posts.

What djangochan 0.1.0 really serves (read from the package and checked against it running):

- ``/api/boards/`` lists the boards (``ln`` is a board's slug); ``/api/`` lists the opening
  posts of the five most recently bumped threads (``board``, ``pk``, absolute ``image``).
- ``/api/boards/{ln}/threads/`` and ``/api/boards/{ln}/threads/{pk}/`` are meant to list a
  board's threads and a thread's replies, but answer 500 in 0.1.0 (their serializers need
  the request); they are read all the same, for versions that fix them.
- No API lists a thread's replies with their thumbnails, so posts are read from the thread
  page ``/{ln}/thread/{pk}/``: each post is ``<div class="row op|reply" id="p{pk}">`` holding
  ``<a href="/media/{ln}/{pk}.{ext}"><img src="/media/cache/xx/yy/{hash}.jpg"></a>`` (a
  sorl-thumbnail copy made when a page first shows the post) and its words.
- ``/{ln}/`` and ``/{ln}/catalog`` link every live thread: discovery without the API.

So every URL kind leads to thread pages (``Listing.pages``); only thread pages yield media,
each with its full-size URL, its thumbnail and its page, all of which removal is checked on.
Deleting a post removes its file but never its cached thumbnail; deleting a thread removes
its replies from the database but leaves their files and thumbnails served.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from chorus.errors import MonitorError
from chorus.monitor.fetch import Fetched, blocked_service
from chorus.monitor.sources.base import MAX_TEXT, Listing, MediaRef, Source

_SLUG = r"[-A-Za-z0-9_]{1,50}"
_API_INDEX = re.compile(r"^/api/?$")
_API_BOARDS = re.compile(r"^/api/boards/?$")
_API_THREADS = re.compile(rf"^/api/boards/(?P<board>{_SLUG})/threads/?$")
_API_THREAD = re.compile(rf"^/api/boards/(?P<board>{_SLUG})/threads/(?P<pk>\d{{1,20}})/?$")
_BOARD_PAGE = re.compile(rf"^/(?P<board>{_SLUG})/(?:catalog)?$")
_THREAD_PAGE = re.compile(rf"^/(?P<board>{_SLUG})/thread/(?P<pk>\d{{1,20}})/?$")
_POST_ID = re.compile(r"^p(\d{1,20})$")
MAX_POSTS = 2000


def thread_page(origin: str, board: str, pk: int | str) -> str:
    return f"{origin}/{board}/thread/{int(pk)}/"


def _json(fetched: Fetched) -> Any:
    try:
        return json.loads(fetched.body)
    except ValueError as exc:
        raise MonitorError("This djangochan API answered with something that is not JSON.") from exc


def _slug(value: object) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(_SLUG, value) else None


def _pk(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


class _ThreadPage(HTMLParser):
    """Collects each post's id, full image link, thumbnail and words."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.posts: list[dict[str, Any]] = []
        self._post: dict[str, Any] | None = None
        self._depth = 0  # div nesting inside the current post
        self._image = False

    def _url(self, value: str | None) -> str | None:
        if not value:
            return None
        url = urljoin(self.base, value.strip()).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https") or blocked_service(url):
            return None
        return url

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "div":
            post_id = _POST_ID.match(values.get("id") or "")
            if post_id and ("op" in classes or "reply" in classes) and len(self.posts) < MAX_POSTS:
                self._post = {"id": post_id[1], "media": None, "thumb": None, "text": []}
                self.posts.append(self._post)
                self._depth = 1
            elif self._post is not None:
                self._depth += 1
        if self._post is None:
            return
        if tag == "span" and "image" in classes:
            self._image = True
        elif tag == "a" and self._image and self._post["media"] is None:
            self._post["media"] = self._url(values.get("href"))
        elif tag == "img" and self._image and self._post["thumb"] is None:
            self._post["thumb"] = self._url(values.get("src"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._image = False
        elif tag == "div" and self._post is not None:
            self._depth -= 1
            if self._depth <= 0:
                self._post = None

    def handle_data(self, data: str) -> None:
        if self._post is not None and sum(map(len, self._post["text"])) < MAX_TEXT:
            self._post["text"].append(data)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and len(self.hrefs) < 10 * MAX_POSTS:
            self.hrefs.append(href)


class Djangochan(Source):
    kind = "djangochan"

    def read(self, fetched: Fetched) -> Listing:
        parts = urlsplit(fetched.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path
        if _API_INDEX.match(path):
            data = _json(fetched)
            posts = data if isinstance(data, list) else []
            return Listing(pages=list(dict.fromkeys(
                thread_page(origin, board, pk)
                for post in posts if isinstance(post, dict)
                if (board := _slug(post.get("board"))) and (pk := _pk(post.get("pk")))
            )))  # fmt: skip
        if _API_BOARDS.match(path):
            data = _json(fetched)
            boards = data if isinstance(data, list) else []
            return Listing(pages=list(dict.fromkeys(
                f"{origin}/{ln}/catalog"
                for board in boards if isinstance(board, dict)
                if (ln := _slug(board.get("ln")))
            )))  # fmt: skip
        if match := _API_THREADS.match(path):
            data = _json(fetched)
            threads = data if isinstance(data, list) else []
            return Listing(pages=list(dict.fromkeys(
                thread_page(origin, match["board"], pk)
                for thread in threads if isinstance(thread, dict)
                if (pk := _pk(thread.get("pk")))
            )))  # fmt: skip
        if match := _API_THREAD.match(path):
            _json(fetched)  # replies carry no thumbnail: the thread page is read instead
            return Listing(pages=[thread_page(origin, match["board"], match["pk"])])
        if match := _THREAD_PAGE.match(path):
            return self._thread(fetched, origin, match["board"], match["pk"])
        if match := _BOARD_PAGE.match(path):
            links = _Links()
            links.feed(fetched.body.decode("utf-8", "replace"))
            links.close()
            board, pages = match["board"], []
            for href in links.hrefs:
                found = urlsplit(urljoin(fetched.url, href))
                thread = _THREAD_PAGE.match(found.path)
                if found.netloc == parts.netloc and thread and thread["board"] == board:
                    pages.append(thread_page(origin, board, thread["pk"]))
            return Listing(pages=list(dict.fromkeys(pages)))
        raise MonitorError(
            "A djangochan source is /api/, /api/boards/, /api/boards/{board}/threads/[{id}/], "
            "/{board}/[catalog] or /{board}/thread/{id}/."
        )

    def _thread(self, fetched: Fetched, origin: str, board: str, pk: str) -> Listing:
        page = thread_page(origin, board, pk)
        parser = _ThreadPage(fetched.url)
        parser.feed(fetched.body.decode("utf-8", "replace"))
        parser.close()

        def words(post: dict[str, Any]) -> str:
            return " ".join(" ".join(post["text"]).split())[:MAX_TEXT]

        opening = parser.posts[0] if parser.posts else None
        media = [
            MediaRef(
                url=post["media"],
                page_url=page,
                thumbnail_url=post["thumb"],
                post_id=post["id"],
                thread=f"{board}/{int(pk)}",
                text=words(post),
                context=words(opening) if opening is not None and post is not opening else "",
            )
            for post in parser.posts
            if post["media"]
        ]
        return Listing(media=media)
