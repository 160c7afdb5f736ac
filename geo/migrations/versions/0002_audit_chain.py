"""Tamper-evident audit log: a hash chain over every entry, and append-only triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Adds ``seq`` (the entry's place in the chain, unique), ``prev_hash`` and ``hash`` to
``audit_log`` (`geo.store.audit_hash`), chains the entries already there in id order, and
adds triggers that refuse UPDATE and DELETE of audit entries (and TRUNCATE on PostgreSQL),
on both backends. The database owner can still drop the triggers; the chain then shows an
edited or removed entry (`geo.audit.verify_chain`), see docs/security.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo.store import GENESIS_HASH, audit_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit_log is append-only (Lägesbild audit trail)"


def _chain_existing(bind: sa.Connection) -> None:
    log = sa.table(
        "audit_log",
        *(
            sa.column(c)
            for c in (
                "id",
                "actor",
                "role",
                "action",
                "target_type",
                "target_id",
                "outcome",
                "seq",
                "prev_hash",
                "hash",
            )
        ),  # fmt: skip
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("params", sa.JSON()),
    )
    from geo.store import AwareDateTime

    at_type = AwareDateTime()
    prev = GENESIS_HASH
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for seq, row in enumerate(rows, start=1):
        at = at_type.process_result_value(row["at"], bind.dialect)
        digest = audit_hash(
            prev,
            seq=seq,
            at=at,
            actor=row["actor"],
            role=row["role"],
            action=row["action"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            params=row["params"],
            outcome=row["outcome"],
        )
        bind.execute(
            sa.update(log).where(log.c.id == row["id"]).values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), nullable=True))
    bind = op.get_bind()
    _chain_existing(bind)
    op.create_index("ux_audit_seq", "audit_log", ["seq"], unique=True)
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION lagesbild_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION lagesbild_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS lagesbild_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.drop_index("ux_audit_seq", "audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
