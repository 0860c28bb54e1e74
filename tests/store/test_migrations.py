"""The migrations build exactly the schema the models describe, and go down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from chorus.models import Base
from chorus.store import migrate


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    migrate.downgrade(engine, "0001")
    assert "ledger_entries" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "ledger_entries" in inspect(engine).get_table_names()
    head = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()
    assert migrate.current(engine) == head
