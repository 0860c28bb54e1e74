"""The djangochan source on the shapes djangochan 0.1.0 serves, and on hostile answers; and
re-checks that read a page the way its source does (a file name inside another is not it)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import MonitorError
from chorus.monitor import targets
from chorus.monitor.fetch import Fetched
from chorus.monitor.models import Sighting
from chorus.monitor.pipeline import Monitor, still_listed
from chorus.monitor.sightings import urls
from chorus.monitor.sources import KINDS, Djangochan
from chorus.store.session import transaction

from .board import Board, running
from .test_board_monitor import due_now, jpeg, register

SITE = "http://chan.example"


def answer(url: str, body: bytes | str, kind: str = "text/html") -> Fetched:
    data = body.encode() if isinstance(body, str) else body
    return Fetched(url, 200, httpx.Headers({"content-type": kind}), data)


def post(pk: int, media: str, thumb: str, words: str, role: str = "reply") -> str:
    return (
        f'<div class="row {role}" id="p{pk}"><div class="row headline"><p>'
        f'<span class="pk">#{pk}</span></p></div><div class="row content">'
        f'<div class="one-third column"><span class="image"><a href="{media}">'
        f'<img src="{thumb}"></a></span></div><div class="two-thirds column">'
        f'<span class="post-text"><p>{words}</p></span></div></div></div>'
    )


def test_registered() -> None:
    assert KINDS["djangochan"] is Djangochan


def test_api_and_board_pages_lead_to_thread_pages() -> None:
    source = Djangochan()
    index = [{"board": "b", "pk": 7, "image": f"{SITE}/media/b/7.jpg"},
             {"board": "../x", "pk": 8}, {"board": "b", "pk": "9"}, "junk"]  # fmt: skip
    assert source.read(answer(f"{SITE}/api/", json.dumps(index))).pages == [f"{SITE}/b/thread/7/"]
    boards = [{"ln": "b"}, {"ln": "tech"}, {"ln": "a b"}, {"url": "x"}]
    assert source.read(answer(f"{SITE}/api/boards/", json.dumps(boards))).pages == [
        f"{SITE}/b/catalog",
        f"{SITE}/tech/catalog",
    ]
    threads = answer(f"{SITE}/api/boards/b/threads/", '[{"pk": 3}, {"pk": true}]')
    assert source.read(threads).pages == [f"{SITE}/b/thread/3/"]
    catalog = (
        '<a href="/b/thread/3/">Visit</a><a href="/b/thread/3/">again</a>'
        '<a href="/tech/thread/4/">other board</a><a href="http://evil.example/b/thread/5/">x</a>'
        '<a href="thread/6/">relative</a>'
    )
    assert source.read(answer(f"{SITE}/b/catalog", catalog)).pages == [
        f"{SITE}/b/thread/3/",
        f"{SITE}/b/thread/6/",
    ]
    for url, body in ((f"{SITE}/api/", "<html>down</html>"), (f"{SITE}/b/thread/x", "")):
        with pytest.raises(MonitorError):
            source.read(answer(url, body))


def test_thread_page_posts() -> None:
    page = (
        "<html><body><div class='thread'>"
        + post(3, "/media/b/3.jpg", "/media/cache/aa/bb/1.jpg", "hello <b>Alex</b>", "op")
        + post(4, "/media/b/4.png", "/media/cache/cc/dd/2.jpg", "second")
        + '<div class="row reply" id="p5"><span class="post-text">no image</span></div>'
        + post(6, "javascript:alert(1)", "https://images.google.com/x.jpg", "hostile")
        + "</div><div>outside any post</div></body></html>"
    )
    listing = Djangochan().read(answer(f"{SITE}/b/thread/3/", page))
    assert [(m.post_id, m.url, m.thumbnail_url) for m in listing.media] == [
        ("3", f"{SITE}/media/b/3.jpg", f"{SITE}/media/cache/aa/bb/1.jpg"),
        ("4", f"{SITE}/media/b/4.png", f"{SITE}/media/cache/cc/dd/2.jpg"),
    ]
    first = listing.media[0]
    assert first.page_url == f"{SITE}/b/thread/3/" and first.thread == "b/3"
    assert "hello Alex" in first.text and "outside" not in listing.media[1].text
    assert set(first.urls) == {"media", "page", "thumbnail"}
    # a page of a million unclosed tags is read without error (and bounded)
    flood = "<div class='row reply' id='p1'>" * 20_000
    assert Djangochan().read(answer(f"{SITE}/b/thread/1/", flood)).media == []


def test_still_listed_wants_the_whole_file_not_a_part_of_its_name() -> None:
    media = f"{SITE}/media/b/1.jpg"
    served = {"media": media, "thumbnail": f"{SITE}/media/cache/00/11/ffff.jpg"}
    others = post(11, "/media/b/11.jpg", "/media/cache/12/34/abcd1.jpg", "x")
    page = answer(f"{SITE}/b/thread/9/", f"<html>{others}</html>")
    assert not still_listed(page, served, None)  # "1.jpg" is in "11.jpg" and "abcd1.jpg"
    assert not still_listed(page, served, "djangochan")
    shown = post(1, "/media/b/1.jpg", "/media/cache/00/11/ffff.jpg", "x")
    assert still_listed(answer(f"{SITE}/b/thread/9/", shown), served, "djangochan")
    assert still_listed(answer(f"{SITE}/b/thread/9/", shown), served, None)
    assert still_listed(answer(f"{SITE}/x.json", '{"file": "/media/b/1.jpg"}'), served, None)
    assert not still_listed(answer(f"{SITE}/x.json", '{"file": "/media/b/1.jpgx"}'), served, None)
    # a 4chan thread JSON names no file: only its own source can tell the post is there
    thread = json.dumps({"posts": [{"no": 1, "tim": 1700000001001, "ext": ".jpg"}]})
    fourchan = {"media": f"{SITE}/b/1700000001001.jpg"}
    assert still_listed(answer(f"{SITE}/b/thread/1.json", thread), fourchan, "4chan")
    with pytest.raises(MonitorError):
        still_listed(answer(f"{SITE}/b/thread/1.json", "<html>challenge</html>"), fourchan, "4chan")


def test_an_unchanged_4chan_thread_reads_present_on_every_url(
    sessions: sessionmaker[Session], settings: Settings, photos: list[Path]
) -> None:
    """Before the fix, a re-check read the thread JSON and page as 'removed' (neither holds
    the file name as such); only the files kept the sighting up."""
    register(sessions, photos[:1], owner="C-1")
    board = Board()
    board.post(None, jpeg(Image.open(photos[0])), "x")
    with running(board) as base, Monitor(sessions, settings, worker="w1") as monitor:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/catalog.json", "4chan")
        monitor.run_once()
        assert len(monitor.run_once().sightings) == 1
        due_now(sessions)
        monitor.run_once()
        with transaction(sessions) as session:
            sighting = session.scalars(select(Sighting)).one()
            states = {u.role: (u.state, u.last_status) for u in urls(session, sighting)}
        assert states == {role: ("present", 200) for role in ("media", "page", "thumbnail", "api")}
