"""Alembic environment for Lägesbild.

`geo.store.Store.migrate` builds the Alembic config in code and hands over an open connection
(``config.attributes["connection"]``) inside its own transaction, so a migration commits or
rolls back as a whole. Running ``alembic`` from the command line is not supported: open a
`Store` instead.
"""

from __future__ import annotations

from alembic import context

from geo.store import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through geo.store.Store(url), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
