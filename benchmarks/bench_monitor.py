"""Site monitor: time from a post to its sighting, media per second, memory on a busy board.

Runs a local 4chan-format board (tests/monitor/board.py) and the real monitor against it:

1. **Latency** at default politeness (1 request/s per host) with a 10 s thread refresh:
   a banked photo is posted at a random moment; the time until its sighting is recorded.
2. **Throughput**: media fetched + fingerprinted + looked up per second on one core,
   against the fingerprinting alone of the same files in the same run (the peer: what
   the monitor adds on top of hashing).
3. **Memory**: RSS of the monitor process while it works through --posts posts (reused
   photos under distinct file names), sampled after every pass: flat after warm-up.

    .venv/bin/python benchmarks/bench_monitor.py [--posts 50000] [--latency-runs 5]
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from _results import machine, now, pin_to_one_core, write_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.monitor.board import Board, running

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.fingerprint import fingerprint_bytes, fingerprint_path
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.monitor import targets
from chorus.monitor.models import Sighting
from chorus.monitor.pipeline import Monitor
from chorus.monitor.runner import run_forever
from chorus.store import migrate
from chorus.store.engine import make_engine
from chorus.store.session import session_factory, transaction

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(folder: Path, **extra: object) -> tuple[Settings, object]:
    key = base64.b64encode
    settings = Settings(
        env="test", secret_key="b" * 40, data_dir=folder,
        database_url=f"sqlite:///{folder / 'chorus.db'}",
        evidence_signing_key=key(b"k" * 32).decode(),  # type: ignore[arg-type]
        evidence_master_key=key(b"m" * 32).decode(),  # type: ignore[arg-type]
        monitor_allowed_networks=["127.0.0.1"], **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    return settings, session_factory(engine)


def latency(photos: list[Path], runs: int) -> list[float]:
    """Seconds from post to sighting, default politeness, thread refreshed every 10 s."""
    out = []
    for run in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="chorus-bench-monitor-"))
        settings, sessions = setup(folder, monitor_interval_s=10)
        with transaction(sessions) as session:  # type: ignore[operator]
            record = fingerprint_path(photos[run]).as_record()
            bank.register(session, owner_id="C-1", provenance="caseworker",
                          signals=SignalInput.from_record(record),
                          keys=KeyRing(settings))  # fmt: skip
        board = Board()
        thread = board.post(None, photos[-1].read_bytes()).no
        with running(board) as base:
            with transaction(sessions) as session:  # type: ignore[operator]
                targets.add(session, f"{base}/b/thread/{thread}.json", "4chan", interval_s=10)
            stop = threading.Event()
            worker = threading.Thread(target=run_forever, args=(sessions, settings, stop))
            worker.start()
            time.sleep(3 + random.Random(run).random() * 10)  # the post lands at any moment
            posted = time.monotonic()
            board.post(thread, photos[run].read_bytes())
            while True:
                with transaction(sessions) as session:  # type: ignore[operator]
                    if session.scalar(select(Sighting.id)) is not None:
                        break
                time.sleep(0.2)
            out.append(time.monotonic() - posted)
            stop.set()
            worker.join()
    return out


def small_jpegs(photos: list[Path], side: int) -> list[bytes]:
    """The photos scaled to ``side`` pixels (longest side), as a busy board's media."""
    out = []
    for path in photos:
        image = Image.open(path)
        image.thumbnail((side, side))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


class RssSampler(threading.Thread):
    """RSS every ``interval`` seconds, with the number of media done by then."""

    def __init__(self, done: list[int], interval: float = 2.0, log: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.done, self.interval, self.log = done, interval, log
        self.samples: list[tuple[int, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        out = self.log.open("w", buffering=1) if self.log else None  # kept as it goes
        while not self.stop.wait(self.interval):
            sample = (self.done[0], rss_mb())
            self.samples.append(sample)
            if out:
                out.write(f"{time.time():.0f},{sample[0]},{sample[1]:.1f}\n")
        if out:
            out.close()


def slope_mb_per_10k(samples: list[tuple[int, float]]) -> float:
    """Least-squares growth of RSS per 10,000 media (0 when flat)."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [x for x, _ in samples], [y for _, y in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if not var else sum((x - mx) * (y - my) for x, y in samples) / var * 10_000


def throughput(
    photos: list[Path], posts: int, side: int | None, log: Path | None = None
) -> tuple[float, float, list[tuple[int, float]], int]:
    folder = Path(tempfile.mkdtemp(prefix="chorus-bench-monitor-"))
    settings, sessions = setup(folder, monitor_request_interval_s=0)
    board = Board()
    datas = small_jpegs(photos, side) if side else [p.read_bytes() for p in photos]
    per_thread = 250
    thread = None
    for n in range(posts):
        if n % per_thread == 0:
            thread = None
        post = board.post(thread, datas[n % len(datas)])
        thread = thread or post.no
    done = [0]
    sampler = RssSampler(done, log=log)
    with running(board) as base, Monitor(sessions, settings) as monitor:  # type: ignore[arg-type]
        with transaction(sessions) as session:  # type: ignore[operator]
            targets.add(session, f"{base}/b/catalog.json", "4chan")
        monitor.run_once()  # discovers every thread
        t0 = time.perf_counter()
        sampler.start()
        while done[0] < posts:
            report = monitor.run_once(recheck=False)
            if not report.targets:
                break
            done[0] += report.media
        rate = done[0] / (time.perf_counter() - t0)
        sampler.stop.set()
        sampler.join()
        cached = len(monitor._seen)
    t0 = time.perf_counter()
    for data in datas[: min(len(datas), 300)]:
        fingerprint_bytes(data)
    peer = min(len(datas), 300) / (time.perf_counter() - t0)
    return rate, peer, sampler.samples, cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument(
        "--media-side",
        type=int,
        default=0,
        help="scale the board's media to this many pixels (0: as they are)",
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--samples", type=Path, help="write every (time, posts, RSS MB) sample here as it is taken"
    )
    args = parser.parse_args()
    core = pin_to_one_core()
    photos = sorted(PHOTOS.glob("*.jpg"))
    lat = latency(photos, args.latency_runs)
    rate, peer, samples, cached = throughput(
        photos, args.posts, args.media_side or None, args.samples
    )
    warm = [s for s in samples if s[0] >= 25_000] or samples[len(samples) // 2 :] or samples
    rss = [mb for _, mb in warm]
    latency_cell = (
        f"{statistics.median(lat):.1f} / {max(lat):.1f} s" if lat else "not run (--latency-runs 0)"
    )
    media = f"scaled to {args.media_side} px" if args.media_side else "the photos as they are"
    body = f"""## Site monitor ({now()})

`benchmarks/bench_monitor.py --posts {args.posts:,} --latency-runs {args.latency_runs}
--media-side {args.media_side}` on {machine()}; pinned to core {core} (the board server
shares it). Local 4chan-format board; throughput and memory with media {media}.

| measure | result | target |
| --- | --- | --- |
| post -> sighting, 1 request/s per host, thread refresh 10 s (median / max of {len(lat)}) | {latency_cell} | <= 60 s |
| media fetched + fingerprinted + looked up | {rate:.1f} /s | |
| peer: fingerprinting the same JPEGs alone (fast path, in process) | {peer:.1f} /s (monitor = {rate / peer:.2f}x) | |
| RSS from post 25,000 on, of {args.posts:,} (min / max, {len(rss)} samples every 2 s) | {min(rss):.0f} / {max(rss):.0f} MB | flat |
| RSS at the first sample of that stretch (post {warm[0][0]:,}) / at the end (post {samples[-1][0]:,}) | {warm[0][1]:.0f} / {samples[-1][1]:.0f} MB | flat |
| RSS growth in that stretch (least squares) | {slope_mb_per_10k(warm):+.1f} MB per 10,000 posts | ~0 |
| lookups remembered at the end (CHORUS_MONITOR_SEEN_CACHE) | {cached:,} | bounded |
"""  # noqa: E501
    print(body)
    if not args.no_write:
        write_section("bench_monitor", body)


if __name__ == "__main__":
    main()
