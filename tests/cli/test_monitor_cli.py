"""`chorus monitor` as an operator runs it, and the monitor inside `chorus serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.monitor.models import MonitorTarget, Sighting
from chorus.store.session import transaction

from ..evidence.conftest import new_key
from ..monitor.board import Board, running
from ..monitor.test_board_monitor import register

CHORUS = [sys.executable, "-m", "chorus.cli"]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update(
        CHORUS_DATABASE_URL=database_url,
        CHORUS_EVIDENCE_SIGNING_KEY=new_key(),
        CHORUS_EVIDENCE_MASTER_KEY=new_key(),
        CHORUS_MONITOR_ALLOWED_NETWORKS='["127.0.0.1"]',
        CHORUS_MONITOR_REQUEST_INTERVAL_S="0",
        CHORUS_MONITOR_INTERVAL_S="1",
    )
    return env


def chorus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHORUS, *args], capture_output=True, text=True, env=env, timeout=120)


def wait_for_sighting(sessions: sessionmaker[Session], timeout: float = 60) -> Sighting:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with transaction(sessions) as session:
            found = session.scalar(select(Sighting))
        if found is not None:
            return found
        time.sleep(0.3)
    raise AssertionError("no sighting within the time limit")


def test_add_list_pause_and_run(
    database_url: str, sessions: sessionmaker[Session], photos: list[Path]
) -> None:
    env = environment(database_url)
    [entry] = register(sessions, photos[:1], owner="C-7")
    board = Board()
    board.post(None, photos[0].read_bytes())
    with running(board) as base:
        refused = chorus(env, "monitor", "add", "https://tineye.com/search?q=1")
        assert refused.returncode == 1 and "never monitored" in refused.stderr
        added = chorus(env, "monitor", "add", f"{base}/b/catalog.json", "--kind", "4chan")
        assert added.returncode == 0, added.stderr
        target_id = added.stdout.split()[0]
        assert chorus(env, "monitor", "pause", target_id).returncode == 0
        assert "\tpaused\t" in chorus(env, "monitor", "list").stdout
        assert chorus(env, "monitor", "resume", target_id).returncode == 0
        listed = chorus(env, "monitor", "list").stdout
        assert "\tactive\t4chan\treported\tnot yet checked\t" in listed

        process = subprocess.Popen(
            [*CHORUS, "monitor", "run", "--worker", "cli-worker"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            sighting = wait_for_sighting(sessions)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert sighting.bank_entry == entry and sighting.owner_id == "C-7"
    with transaction(sessions) as session:
        assert set(session.scalars(select(MonitorTarget.claimed_by))) == {None}


def test_the_monitor_runs_inside_serve(
    database_url: str, sessions: sessionmaker[Session], photos: list[Path], tmp_path: Path
) -> None:
    from chorus.monitor import targets

    from ..web.server import running_server

    register(sessions, photos[1:2], owner="C-8")
    board = Board()
    board.post(None, photos[1].read_bytes())
    with running(board) as base:
        with transaction(sessions) as session:
            targets.add(session, f"{base}/b/catalog.json", "4chan", interval_s=1)
        with running_server(
            database_url, tmp_path, monitor_allowed_networks=["127.0.0.1"],
            monitor_request_interval_s=0, monitor_in_serve=True,
        ):  # fmt: skip
            sighting = wait_for_sighting(sessions)
    assert sighting.owner_id == "C-8"
