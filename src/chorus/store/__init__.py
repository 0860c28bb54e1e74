"""Storage: SQLAlchemy engine and sessions (SQLite by default, PostgreSQL supported)."""
