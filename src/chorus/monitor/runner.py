"""Running the monitor: a loop for ``chorus monitor run`` and a thread inside ``chorus serve``."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import ChorusError
from chorus.monitor.pipeline import Monitor, reset_claims
from chorus.store.session import transaction

log = logging.getLogger(__name__)


def run_forever(
    sessions: sessionmaker[Session],
    settings: Settings,
    stop: threading.Event,
    *,
    worker: str | None = None,
    idle_s: float = 1.0,
) -> None:
    """Check due targets and sightings until ``stop`` is set; claims are given back at the end.

    Nothing a site sends can end the loop: every failure is logged and the next pass goes on.
    """
    with Monitor(sessions, settings, worker=worker) as monitor:
        try:
            while not stop.is_set():
                try:
                    report = monitor.run_once()
                except (ChorusError, OSError) as exc:
                    log.warning("monitor pass failed, going on: %s", exc)
                    stop.wait(idle_s)
                    continue
                for line in report.skipped:
                    log.info("skipped %s", line)
                if not report.targets:
                    stop.wait(idle_s)
        finally:
            with transaction(sessions) as session:
                reset_claims(session, monitor.worker)


class BackgroundMonitor:
    """The monitor on a thread of its own (``chorus serve`` starts one by default)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever, args=(sessions, settings, self._stop), name="chorus-monitor",
            daemon=True,
        )  # fmt: skip

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
