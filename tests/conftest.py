"""Shared fixtures: the reference data and photos that live beside the repository."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from chorus.store import migrate
from chorus.store.engine import make_engine
from chorus.store.session import session_factory

SHARED = Path(os.environ.get("CHORUS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
REFERENCE = SHARED / "data" / "pdq-reference"
PHOTOS = SHARED / "data" / "photos"

# Property tests check answers, not speed: with Hypothesis's default 200 ms deadline an
# example fails on a loaded machine (test_identify's round trip did, with a benchmark
# running alongside). Timing targets live in benchmarks/.
settings.register_profile("chorus", deadline=None)
settings.load_profile("chorus")


def _require(path: Path) -> Path:
    if not path.exists():
        raise RuntimeError(
            f"Test data missing: {path}. The suite expects ../shared/data next to the "
            "repository (or CHORUS_SHARED_DIR pointing at shared/)."
        )
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _require(REFERENCE)


@pytest.fixture(scope="session")
def photos() -> list[Path]:
    return sorted(_require(PHOTOS).glob("*.jpg"))


# --- Databases ---------------------------------------------------------------------------
# `make test` runs the whole suite twice: on SQLite, then with CHORUS_TEST_DATABASE_URL
# pointing at a throwaway PostgreSQL (scripts/with-postgres.sh). Each test that asks for
# `engine` gets a fresh, fully migrated database of its own.


POSTGRES_URL = os.environ.get("CHORUS_TEST_DATABASE_URL") or None
TEMPLATE = "chorus_template"


def pytest_report_header() -> str:
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        return f"database backend: postgresql ({url.host}:{url.port})"
    return "database backend: sqlite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs the tests that use a database, and only those.

    A test reaches a database only through the ``database_url`` fixture (directly or through
    ``engine``, ``sessions``, a server fixture...), so a test without it would run exactly as
    in the SQLite pass: it is deselected here rather than run twice. Browser tests exercise
    pages whose tables are covered by the page tests over a real server: SQLite pass only.
    """
    if not POSTGRES_URL:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        uses_database = "database_url" in getattr(item, "fixturenames", ())
        if uses_database and not item.get_closest_marker("browser"):
            keep.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if POSTGRES_URL else "sqlite"


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[Engine | None]:
    if not POSTGRES_URL:
        yield None
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    template = make_engine(make_url(POSTGRES_URL).set(database=TEMPLATE).render_as_string(False))
    migrate.upgrade(template)
    template.dispose()
    yield admin
    admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path, _postgres_template: Engine | None) -> Iterator[str]:
    """URL of a fresh, migrated database for this test only."""
    if _postgres_template is None:
        url = f"sqlite:///{tmp_path / 'chorus.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _postgres_template.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    assert POSTGRES_URL is not None
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    with _postgres_template.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
