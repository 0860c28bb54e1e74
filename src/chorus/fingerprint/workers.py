"""Hash many files in worker processes, each file under a hard time limit.

A decoder stuck inside C code cannot be interrupted from Python, so the only hard bound is a
separate process: each worker hashes one file at a time, and a worker that passes the
limit is killed and replaced, its file reported as a :class:`DecodeTimeoutError`. A worker
that dies (a crash inside a native decoder) is replaced the same way. Workers receive file
paths, read each file once themselves and send back fingerprints only, never pixels.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from chorus import errors
from chorus.errors import DecodeTimeoutError, FingerprintError
from chorus.fingerprint.decode import DEFAULT_LIMITS, Limits
from chorus.fingerprint.hasher import Fingerprint, fingerprint_path

Outcome = Fingerprint | FingerprintError


def _serve(conn: Connection, exact: bool, limits: Limits) -> None:
    """Worker loop: receive a path, send back ('ok', Fingerprint) or ('error', code, text)."""
    # Pillow warns about oddities (corrupt EXIF, say) on stderr; the record says enough.
    warnings.simplefilter("ignore")
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        if path is None:
            return
        try:
            conn.send(("ok", fingerprint_path(path, exact=exact, limits=limits)))
        except FingerprintError as exc:
            conn.send(("error", type(exc).__name__, exc.message))
        except Exception as exc:  # a bug or an unexpected library error: report, keep going
            conn.send(("error", "FingerprintError", f"This file could not be hashed ({exc})."))


def _rebuild_error(name: str, message: str) -> FingerprintError:
    cls = getattr(errors, name, FingerprintError)
    if not (isinstance(cls, type) and issubclass(cls, FingerprintError)):
        cls = FingerprintError
    return cls(message)


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    task: int | None = None
    deadline: float = 0.0


class HashingPool:
    """A small pool of hashing processes with a per-file hard timeout.

    Use as a context manager; :meth:`map` yields ``(path, outcome)`` in input order.
    """

    def __init__(
        self, workers: int = 1, *, exact: bool = False, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._count = workers
        self._exact = exact
        self._limits = limits
        # Workers (and their replacements, started mid-run) come from a fork server: forking
        # the caller directly could copy a lock held by one of its threads (a progress bar,
        # a web server) into the child and deadlock it.
        methods = multiprocessing.get_all_start_methods()
        self._ctx: Any = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
        self._ctx.set_forkserver_preload(["chorus.fingerprint.workers"])
        self._workers: list[_Worker] = []

    def __enter__(self) -> HashingPool:
        self._workers = [self._spawn() for _ in range(self._count)]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_serve, args=(child, self._exact, self._limits), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process=process, conn=parent)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._spawn()

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []

    def map(self, paths: Iterable[str]) -> Iterator[tuple[str, Outcome]]:
        if not self._workers:
            raise RuntimeError("HashingPool must be used as a context manager")
        try:
            yield from self._map(list(paths))
        finally:
            # A caller that stops early leaves workers mid-file: replace them, so a late
            # reply can never be taken for the next call's file.
            for worker in list(self._workers):
                if worker.task is not None:
                    worker.task = None
                    self._replace(worker)

    def _dispatch(self, worker: _Worker, task: int, path: str) -> bool:
        try:
            worker.conn.send(path)
        except (OSError, ValueError):  # the worker died while idle (killed, out of memory)
            self._replace(worker)
            return False
        worker.task = task
        worker.deadline = time.monotonic() + self._limits.timeout_s
        return True

    def _map(self, todo: list[str]) -> Iterator[tuple[str, Outcome]]:
        done: dict[int, Outcome] = {}
        next_task = 0
        next_out = 0
        while next_out < len(todo):
            for worker in list(self._workers):
                idle = worker.task is None and next_task < len(todo)
                if idle and self._dispatch(worker, next_task, todo[next_task]):
                    next_task += 1
            busy = [w for w in self._workers if w.task is not None]
            if not busy:
                continue
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=timeout)
            for worker in busy:
                task = worker.task
                assert task is not None
                if worker.conn in ready:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        done[task] = FingerprintError(
                            "The image software stopped while reading this file; the file "
                            "may be damaged or crafted to crash it. Nothing else was affected."
                        )
                        worker.task = None
                        self._replace(worker)
                        continue
                    done[task] = message[1] if message[0] == "ok" else _rebuild_error(*message[1:])
                    worker.task = None
                elif time.monotonic() >= worker.deadline:
                    done[task] = DecodeTimeoutError(
                        f"Hashing this file took longer than {self._limits.timeout_s:g} s, so it "
                        "was stopped. The file may be damaged or crafted to stall image "
                        "software; try another copy."
                    )
                    worker.task = None
                    self._replace(worker)
            while next_out in done:
                yield todo[next_out], done.pop(next_out)
                next_out += 1
