"""Database fixtures shared by every test that touches `geo.store`.

``db_url`` gives a fresh, empty database per test, once for SQLite (a file in ``tmp_path``)
and once for PostgreSQL (a new schema in the database named by env
``LAGESBILD_TEST_DATABASE_URL``, dropped afterwards). ``store`` opens a migrated `Store` on it.
The PostgreSQL variant skips when the env var is unset, unless ``CI=true``: then it fails.

Use in a test module::

    pytest_plugins = ("dbfixtures",)  # the db_url and store fixtures
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from geo.store import Store, normalize_url

PG_ENV = "LAGESBILD_TEST_DATABASE_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def postgres_base_url() -> str:
    """The test PostgreSQL URL, or skip (fail under CI=true) when it is not configured."""
    url = os.environ.get(PG_ENV)
    if not url:
        message = f"{PG_ENV} is not set (./dev test starts PostgreSQL with PostGIS and sets it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return url


def _fresh_postgres(base: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalize_url(base))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # PostGIS lives in public; the test's tables and alembic_version in its own schema.
        url = make_url(normalize_url(base)).update_query_dict(
            {"options": f"-csearch_path={schema},public"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'lagesbild.db').as_posix()}"
        return
    yield from _fresh_postgres(postgres_base_url())


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated `Store` on a fresh database; closed after the test."""
    s = Store(db_url)
    yield s
    s.close()
