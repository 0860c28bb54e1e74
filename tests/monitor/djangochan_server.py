"""A real djangochan, installed from PyPI, running on 127.0.0.1 for the monitor's tests.

The throwaway venv is built once per pytest session (``python -m venv`` then ``pip install
djangochan==0.1.0``); without PyPI the test fails, saying so, rather than skipping. The
site is djangochan's own: its ``init`` command (migrations, an admin user), its settings
read from ``.env`` (SQLite and media under a temporary directory, ``DEBUG=True`` so that
Django itself serves ``/media/`` as djangochan's development set-up does; a production
site has its web server serve the same directory), and ``runserver`` on a free port.

Everything a person does goes through its web pages, as a browser would: boards are
created in the admin, posts through the board and thread forms (CSRF token and session
cookie), and a post is deleted through its delete form by the session that made it.
djangochan marks its cookies ``Secure``; browsers send those to http://127.0.0.1 (a
secure context), so this client does too. Only purging orphaned thumbnails has no web
page: that is sorl-thumbnail's ``thumbnail cleanup`` command, run with the venv's python.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PACKAGE = "djangochan==0.1.0"
ADMIN_PASSWORD = "chorus-test-admin"
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def build_venv(root: Path) -> Path:
    """A venv with djangochan in it; its python. Fails the test when it cannot be built."""
    started = time.monotonic()
    venv = root / "venv"
    python = venv / "bin" / "python"
    steps = [
        ("python -m venv", [sys.executable, "-m", "venv", str(venv)]),
        (f"pip install {PACKAGE}",
         [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PACKAGE]),
    ]  # fmt: skip
    for what, step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            pytest.fail(
                f"Could not install {PACKAGE} into a throwaway venv for the djangochan "
                f"acceptance test (it needs PyPI): {what} exited with {done.returncode}:\n"
                + "\n".join(errors or done.stderr.splitlines()[-20:])[-2000:],
                pytrace=False,
            )
    print(f"djangochan venv built in {time.monotonic() - started:.1f} s")
    return python


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    """A running djangochan: its address, and its own command line for what has no page."""

    base: str
    python: Path
    workdir: Path
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.python), "-m", "djangochan", *args], cwd=self.workdir, env=self.env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"djangochan {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def media_files(self) -> set[str]:
        """Paths of every file under MEDIA_ROOT (what the site can serve from /media/)."""
        root = self.workdir / "media"
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@contextmanager
def running(python: Path, workdir: Path) -> Iterator[Site]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / ".env").write_text(
        "SECRET_KEY='chorus-test-only-not-secret'\nDEBUG=True\nCAPTCHA=False\n"
        'API_ON=True\nWWW_ON=True\nALLOWED_HOSTS="127.0.0.1"\n'
        f"MEDIA_ROOT={workdir / 'media'}\nSTATIC_ROOT={workdir / 'static'}\n"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
           "DJANGOCHAN_WORKDIR": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    port = _free_port()
    site = Site(f"http://127.0.0.1:{port}", python, workdir, env)
    site.manage("init", "--admin-password", ADMIN_PASSWORD, "--skip-collectstatic")
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [str(python), "-m", "djangochan", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    "djangochan runserver exited:\n"
                    + (workdir / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(f"{site.base}/api/boards/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("djangochan did not answer within 60 s.")
            time.sleep(0.2)
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@dataclass
class Browser:
    """One visitor's session on the site: forms with their CSRF token, cookies kept."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base, follow_redirects=False, timeout=30)

    def close(self) -> None:
        self.client.close()

    def _headers(self, path: str) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "Referer": self.base + path, "Origin": self.base}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            self.cookies[name] = value
        return response

    def get(self, path: str) -> httpx.Response:
        return self._keep(self.client.get(path, headers=self._headers(path)))

    def submit(
        self,
        path: str,
        data: dict[str, str],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """Fill in the form on ``path`` and send it; the answer must be a redirect."""
        page = self.get(path)
        token = _TOKEN.search(page.text)
        assert page.status_code == 200 and token, f"no form on {path}: {page.status_code}"
        response = self._keep(
            self.client.post(path, data={**data, "csrfmiddlewaretoken": token[1]}, files=files,
                             headers=self._headers(path))
        )  # fmt: skip
        if response.status_code != 302:
            errors = re.findall(r'class="errorlist[^>]*>(.*?)</ul>', response.text, re.S)
            raise AssertionError(f"{path} refused the form ({response.status_code}): {errors}")
        return response

    def log_in_as_admin(self) -> None:
        self.submit("/admin/login/", {"username": "admin", "password": ADMIN_PASSWORD,
                                      "next": "/admin/"})  # fmt: skip

    def add_board(self, slug: str, name: str) -> None:
        self.submit(
            "/admin/core/board/add/",
            {"name": name, "ln": slug, "description": "", "max_threads": "100",
             "thread_bump_limit": "500", "thread_img_limit": "150",
             "archive_retention_time": "", "_save": "Save"},
        )  # fmt: skip

    def new_thread(self, board: str, image: bytes, text: str, filename: str = "a.jpg") -> int:
        response = self.submit(
            f"/{board}/",
            {"author": "Anonymous", "subject": "", "text": text, "options": ""},
            {"image": (filename, image, "image/jpeg")},
        )
        found = re.search(rf"^/{board}/thread/(\d+)/$", response.headers["location"])
        assert found, response.headers["location"]
        return int(found[1])

    def reply(self, board: str, thread: int, image: bytes, text: str = "") -> int:
        response = self.submit(
            f"/{board}/thread/{thread}/",
            {"author": "Anonymous", "text": text, "options": ""},
            {"image": ("r.jpg", image, "image/jpeg")},
        )
        found = re.search(rf"^/{board}/thread/{thread}/#p(\d+)$", response.headers["location"])
        assert found, response.headers["location"]
        return int(found[1])

    def delete(self, board: str, post: int) -> None:
        """Delete a post through its delete page: only the session that made it may."""
        self.submit(f"/sys/post/{board}/{post}/delete", {})
