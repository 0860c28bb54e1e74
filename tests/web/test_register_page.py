"""The registration page as a survivor uses it, and the proof that no photo leaves it."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Request, Route

from tests.matching.keys import MASTER_KEY
from tests.web.browser import outcomes, wait_until_done

CHORUS = [sys.executable, "-m", "chorus.cli"]


def open_page(context: BrowserContext, base: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/register")
    return page


# --- Headers: no browser needed -----------------------------------------------------------


def csp(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            policy[words[0]] = words[1:]
    return policy


def test_page_policy_forbids_other_origins(page_server: str) -> None:
    page = httpx.get(f"{page_server}/register")
    assert page.status_code == 200
    policy = csp(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert all("unsafe" not in value for values in policy.values() for value in values)
    assert "no-store" in page.headers["cache-control"]
    assert page.headers["referrer-policy"] == "no-referrer"
    # No inline script: every <script> loads a file from this origin.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "on" not in {a[:2] for a in re.findall(r"\s(on\w+)=", page.text)}

    # The JSON API keeps the app-wide policy and its no-store.
    api = httpx.get(f"{page_server}/api/v1/lookup", params={"signal_type": "md5", "signal": "x"})
    assert api.status_code == 401
    api_policy = csp(api.headers["content-security-policy"])
    assert api_policy["connect-src"] == ["'self'"] and api_policy["script-src"] == ["'self'"]
    assert api.headers["cache-control"] == "no-store"

    worker = httpx.get(f"{page_server}/static/fingerprint/worker.js")
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    assert csp(worker.headers["content-security-policy"])["connect-src"] == ["'self'"]
    assert "importScripts('pdq.js'" in worker.text


# --- In Chromium ---------------------------------------------------------------------------


def distinctive_runs(data: bytes) -> list[bytes]:
    """Byte runs of a photo to look for in traffic, raw and in the usual text encodings."""
    runs = []
    for start in (len(data) // 3, len(data) // 2, len(data) - 64):
        raw = data[start : start + 48]
        runs += [raw, raw.hex().encode(), base64.b64encode(raw)[8:56]]
    return runs


@pytest.mark.browser
def test_no_photo_leaves_the_page(
    context: BrowserContext, page_server: str, photos: list[Path], reference_dir: Path
) -> None:
    files = [*photos[:12], reference_dir / "images" / "pytx" / "LA.png"]
    requests: list[Request] = []
    context.on("request", lambda request: requests.append(request))
    # The send step (issue 4) posts to a same-origin path; the test answers it itself so the
    # one request the page can make is recorded and inspected too.
    sent: list[bytes] = []

    def answer(route: Route) -> None:
        sent.append(route.request.post_data_buffer or b"")
        route.fulfill(status=200, content_type="application/json", body='{"added": 0}')

    context.route("**/case-send-test", answer)
    page = open_page(context, page_server)
    page.set_input_files("#pick-photos", [str(f) for f in files])
    wait_until_done(page, len(files))
    records = page.evaluate("() => window.ChorusRegister.records()")
    assert len(records) == len(files)
    page.evaluate(
        "(r) => window.ChorusRegister.sendFingerprintsToCase(r, '/case-send-test')", records
    )
    assert len(sent) == 1
    fingerprints_size = len(json.dumps({"fingerprints": records}).encode())

    origin = urlsplit(page_server)
    assert requests
    for request in requests:
        url = urlsplit(request.url)
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), request.url
        assert len(request.url) < 300, request.url
        body = request.post_data_buffer or b""
        assert len(body) <= fingerprints_size, (request.url, len(body))
        for path in files:
            data = path.read_bytes()
            assert len(data) > fingerprints_size / 4  # a photo would be noticed by size, too
            for run in distinctive_runs(data):
                assert run not in body and run.decode("latin-1") not in request.url
    # The capture covers the worker's own requests (its scripts), not just the page's.
    fetched = {urlsplit(r.url).path for r in requests}
    assert "/static/fingerprint/pdq.js" in fetched and "/static/fingerprint/png.js" in fetched
    posts = [r for r in requests if r.method != "GET"]
    assert [urlsplit(r.url).path for r in posts] == ["/case-send-test"]
    body = json.loads(sent[0])
    assert set(body) == {"fingerprints"}
    assert {r["path"] for r in body["fingerprints"]} == {f.name for f in files}
    assert all("/" not in r["path"] for r in body["fingerprints"])


def header_only_png(width: int, height: int) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = b"IDAT" + zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
        + struct.pack(">I", len(idat) - 4)
        + idat
        + struct.pack(">I", zlib.crc32(idat))
    )


@pytest.mark.browser
def test_plain_results_for_bombs_non_images_and_plain_photos(
    context: BrowserContext, page_server: str, photos: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "bomb.png").write_bytes(header_only_png(30000, 30000))
    (tmp_path / "notes.jpg").write_text("not a photo, just words\n" * 20)
    data = photos[0].read_bytes()
    (tmp_path / "cut-short.jpg").write_bytes(data[: len(data) // 2])
    Image.new("RGB", (640, 480), (120, 130, 140)).save(tmp_path / "grey.jpg")
    names = ["bomb.png", "notes.jpg", "cut-short.jpg", "grey.jpg"]
    page = open_page(context, page_server)
    page.set_input_files("#pick-photos", [str(tmp_path / n) for n in names] + [str(photos[1])])
    wait_until_done(page, len(names) + 1)
    found = {o["name"]: o for o in outcomes(page)}
    assert found["bomb.png"]["state"] == "error"
    assert "decompression bomb" in found["bomb.png"]["message"]
    assert found["notes.jpg"]["state"] == "error"
    assert "not a photo" in found["notes.jpg"]["message"]
    assert found["cut-short.jpg"]["state"] == "error"
    assert "incomplete" in found["cut-short.jpg"]["message"]
    assert found["grey.jpg"]["state"] == "plain"
    assert found[photos[1].name]["state"] == "made"
    rows = page.locator("#results li")
    assert rows.nth(0).inner_text().count("could not be read") == 1
    assert "too plain to fingerprint reliably" in rows.nth(3).inner_text()
    assert "Fingerprint made." in rows.nth(4).inner_text()
    status = page.locator("#progress-status").inner_text()
    assert status == (
        "All done: 1 fingerprint ready, 1 photo too plain, 3 files could not be read."
    )


@pytest.mark.browser
def test_keyboard_only_on_a_phone_sized_screen(
    browser: Any, page_server: str, photos: list[Path], artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = open_page(context, page_server)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the main content"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "quick-exit"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "pick-photos"
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for attempt in range(3):  # a loaded machine sometimes drops the first key press
            try:
                with page.expect_file_chooser(timeout=10_000) as chooser:
                    page.keyboard.press("Space")  # opens the picker without a mouse
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                page.focus("#pick-photos")
        chooser.value.set_files([str(p) for p in photos[:3]])
        wait_until_done(page, 3)
        # Every control has a name a screen reader can say; no photo is on screen yet.
        for label in ("Choose photos", "Or choose a whole folder", "Load a fingerprints file"):
            assert page.get_by_label(label).count() == 1
        assert page.locator("progress").get_attribute("aria-labelledby") == "progress-status"
        assert page.locator("img").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "register-390x844.png"), full_page=True)
        # Tab on to the first "Show this photo" and open it with the keyboard.
        for _ in range(20):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('show')"):
                break
        name = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert name == f"Show the photo {photos[0].name}"
        page.keyboard.press("Enter")
        assert page.locator("img").count() == 1
        assert page.locator("img").get_attribute("alt") == f"Your photo {photos[0].name}"
        page.keyboard.press("Enter")
        assert page.locator("img").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_quick_exit_leaves_no_history(context: BrowserContext, page_server: str) -> None:
    context.route(
        "https://www.bbc.co.uk/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>weather</p>"),
    )
    page = context.new_page()
    page.goto(f"{page_server}/healthz")
    page.goto(f"{page_server}/register")
    length = page.evaluate("history.length")
    page.click("#quick-exit")
    page.wait_for_url("https://www.bbc.co.uk/weather")
    assert page.evaluate("history.length") == length  # replaced, not added
    page.go_back()
    assert "/register" not in page.url  # back goes to where they were before, not here


def chorus(database_url: str, *args: str, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env["CHORUS_DATABASE_URL"] = database_url
    # the page server's master key: local features are banked sealed with a data key it wraps
    env["CHORUS_EVIDENCE_MASTER_KEY"] = MASTER_KEY
    done = subprocess.run(
        [*CHORUS, *args], capture_output=True, text=True, env=env, input=stdin, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.browser
def test_saved_file_is_chorus_hash_format_and_imports(
    context: BrowserContext, page_server: str, photos: list[Path], tmp_path: Path
) -> None:
    files = photos[20:24]
    page = open_page(context, page_server)
    page.set_input_files("#pick-photos", [str(f) for f in files])
    wait_until_done(page, len(files))
    with page.expect_download() as download:
        page.click("#save")
    saved = tmp_path / "saved.jsonl"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "chorus-fingerprints.jsonl"
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    made_here = chorus("", "hash", "--exact", *map(str, files))
    cli = [json.loads(line) for line in made_here.splitlines()]
    assert [set(r) for r in lines] == [set(r) for r in cli]  # the same record format
    for browser_record, cli_record in zip(lines, cli, strict=True):
        assert browser_record["path"] == Path(str(cli_record["path"])).name
        assert browser_record["sha256"] == cli_record["sha256"]
        assert browser_record["md5"] == cli_record["md5"]

    # A caseworker can bank the saved file as if `chorus hash` had made it.
    database_url = f"sqlite:///{tmp_path / 'bank.db'}"
    banked = chorus(database_url, "bank", "import", "--owner", "case-1", str(saved))
    assert len([json.loads(line)["id"] for line in banked.splitlines()]) == len(files)

    # And a file made by `chorus hash` loads into the page.
    (tmp_path / "from-cli.jsonl").write_text(made_here + "not json\n")
    page.click("#clear")
    page.set_input_files("#import-file", str(tmp_path / "from-cli.jsonl"))
    page.wait_for_function("() => window.ChorusRegister.outcomes().length === 4")
    status = page.locator("#import-status").inner_text()
    assert status.startswith("4 fingerprints loaded from from-cli.jsonl.")
    assert "1 line was not a fingerprint" in status
    assert {o["state"] for o in outcomes(page)} == {"loaded"}
    assert page.evaluate("() => window.ChorusRegister.records().map(r => r.pdq)") == [
        r["pdq"] for r in cli
    ]
    # The robust and local signals `chorus hash` made travel on with the import, bank side
    # only (the lookup side is not banked, and would make a send four times larger).
    imported = page.evaluate("() => window.ChorusRegister.records()")
    for record, cli_record in zip(imported, cli, strict=True):
        assert record["robust"]["bank"] == cli_record["robust"]["bank"]
        assert record["local"]["bank"] == cli_record["local"]["bank"]
        assert "query" not in record["robust"] and "query" not in record["local"]


def chromium_rss(root_pid: int) -> int:
    """Resident memory of every chromium process under this test process, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        if "chrom" in fields["Name"] and "VmRSS" in fields:
            rss[pid] = int(fields["VmRSS"].split()[0]) * 1024
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


@pytest.mark.browser
def test_fifty_photos_in_one_go_with_bounded_memory(
    context: BrowserContext, page_server: str, photos: list[Path], tmp_path: Path
) -> None:
    """50 photos of 3 MP: the worker takes them one at a time and frees each bitmap.

    Holding every decoded photo would take 50 x 12 MB of pixels; the peak must stay far
    below that above what the first few photos needed.
    """
    files = []
    for i, source in enumerate(photos[100:150]):
        with Image.open(source) as image:
            big = image.convert("RGB").resize((1500, 2000))
        files.append(tmp_path / f"large-{i:02d}.jpg")
        big.save(files[-1], quality=85)
    page = open_page(context, page_server)
    peak = {"value": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["value"] = max(peak["value"], chromium_rss(os.getpid()))
            time.sleep(0.05)

    page.set_input_files("#pick-photos", [str(f) for f in files[:5]])
    wait_until_done(page, 5)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        after_five = chromium_rss(os.getpid())
        page.click("#clear")
        page.set_input_files("#pick-photos", [str(f) for f in files])
        wait_until_done(page, len(files), timeout_ms=240_000)
    finally:
        stop.set()
        sampler.join()
    assert [o["state"] for o in outcomes(page)] == ["made"] * len(files)
    growth = peak["value"] - after_five
    print(f"chromium RSS after 5 photos {after_five / 2**20:.0f} MiB, "
          f"peak over 50 {peak['value'] / 2**20:.0f} MiB")  # fmt: skip
    assert growth < 250 * 2**20, f"memory grew by {growth / 2**20:.0f} MiB over 50 photos"


@pytest.mark.browser
def test_a_survivor_reports_signs_in_and_sends_fingerprints(
    context: BrowserContext, page_server: str, photos: list[Path]
) -> None:
    """File a report, get a reference, sign in with it and the PIN, send fingerprints from
    the page: they reach the bank under the case, and only fingerprints left the page."""
    api = context.request
    filed = api.post(
        f"{page_server}/api/v1/reports",
        data={"answers": {"what_was_shared": "Photos of me on a board thread",
                          "urls": ["https://board.example/b/thread/1"]},
              "pin": "483920"},
    )  # fmt: skip
    assert filed.status == 201, filed.text()
    reference = filed.json()["reference"]
    assert reference in filed.json()["message"] and "cannot recover" in filed.json()["message"]
    api.delete(f"{page_server}/api/v1/survivor/session")
    wrong = api.post(f"{page_server}/api/v1/survivor/session",
                     data={"reference": reference, "pin": "000000"})  # fmt: skip
    unknown = api.post(f"{page_server}/api/v1/survivor/session",
                       data={"reference": "CH-XXXX-XXXX", "pin": "483920"})  # fmt: skip
    assert wrong.status == unknown.status == 401
    assert wrong.json()["title"] == unknown.json()["title"]  # never says which part was wrong
    page = context.new_page()
    page.goto(f"{page_server}/register")
    assert page.get_by_role("button", name="Send fingerprints to my case").count() == 0
    signed = api.post(f"{page_server}/api/v1/survivor/session",
                      data={"reference": reference.lower(), "pin": "483920"})  # fmt: skip
    assert signed.ok
    posted: list[bytes] = []
    page.on(
        "request",
        lambda r: posted.append(r.post_data_buffer or b"") if r.method == "POST" else None,
    )
    page.goto(f"{page_server}/register")
    page.set_input_files("#pick-photos", [str(photos[30]), str(photos[31])])
    wait_until_done(page, 2)
    page.get_by_role("button", name="Send fingerprints to my case").click()
    page.wait_for_function(
        "() => document.getElementById('send-status').textContent.startsWith('Sent')"
    )
    assert page.locator("#send-status").inner_text() == (
        "Sent. 2 fingerprints were added to your case."
    )
    assert len(posted) == 1 and len(posted[0]) < 8000
    for photo in (photos[30], photos[31]):
        assert photo.read_bytes()[2000:2032] not in posted[0]
    # a forged request without the page's CSRF token is refused
    forged = api.post(f"{page_server}/api/v1/survivor/fingerprints",
                      data={"fingerprints": []})  # fmt: skip
    assert forged.status == 401
