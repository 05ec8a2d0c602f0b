"""Persistence: SQLAlchemy 2 models, the async engine and session factory, the unit of work and
Alembic migrations. SQLite (WAL) by default, PostgreSQL through ``DATABASE_URL``."""
