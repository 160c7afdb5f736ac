"""Initial schema: trygghetsbesiktning, medborgarlöften, activities, proposals, users, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Vocabularies in CHECK constraints are frozen here on purpose: a later change to them is a
new migration, not an edit of this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Tables with x_m/y_m (SWEREF 99 TM) that get a generated PostGIS point on PostgreSQL.
POINT_TABLES = ("inspection_issues", "activities", "proposals")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _point_columns(nullable: bool) -> list[sa.Column]:
    return [sa.Column(c, sa.Float(), nullable=nullable) for c in ("lon", "lat", "x_m", "y_m")]


def upgrade() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("area_id", sa.String(100), nullable=True),
        sa.Column("area_name", sa.String(200), nullable=False),
        sa.Column("area_wkt", sa.Text(), nullable=True),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("organisations", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "inspection_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("inspection_rounds.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        *_point_columns(nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=True),
        sa.Column("fixed_on", sa.Date(), nullable=True),
        sa.Column("marked_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.Column("updated_by", sa.String(200), nullable=False),
        _ts("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("severity BETWEEN 1 AND 3", name="ck_issue_severity"),
        sa.CheckConstraint(
            "status IN ('ny', 'åtgärd beställd', 'åtgärdad')", name="ck_issue_status"
        ),
        sa.CheckConstraint("version >= 1", name="ck_issue_version"),
    )
    op.create_index("ix_issue_round", "inspection_issues", ["round_id"])
    op.create_index("ix_issue_status", "inspection_issues", ["status"])
    op.create_table(
        "issue_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "issue_id",
            sa.Integer(),
            sa.ForeignKey("inspection_issues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _ts("changed_at"),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(40), nullable=True),
        sa.Column("to_status", sa.String(40), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_history_issue", "issue_history", ["issue_id"])
    op.create_table(
        "issue_photos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "issue_id",
            sa.Integer(),
            sa.ForeignKey("inspection_issues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        _ts("uploaded_at"),
    )
    op.create_index("ix_photo_issue", "issue_photos", ["issue_id"])

    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("area_ids", sa.JSON(), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name="ck_promise_period"),
    )
    op.create_table(
        "promise_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "promise_id",
            sa.Integer(),
            sa.ForeignKey("promises.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("activity_type", sa.String(100), nullable=True),
        sa.Column("minimum", sa.Integer(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("coverage_area_ids", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('count', 'coverage', 'task')", name="ck_target_kind"),
        sa.CheckConstraint("minimum IS NULL OR minimum >= 0", name="ck_target_minimum"),
    )
    op.create_index("ix_target_promise", "promise_targets", ["promise_id"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "promise_id",
            sa.Integer(),
            sa.ForeignKey("promises.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("activity_type", sa.String(100), nullable=False),
        _ts("starts_at"),
        _ts("ends_at", nullable=True),
        *_point_columns(nullable=True),
        sa.Column("zone_id", sa.String(100), nullable=True),
        sa.Column("area_id", sa.String(100), nullable=True),
        sa.Column("place_name", sa.String(200), nullable=False),
        sa.Column("actors", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ck_activity_times"),
    )
    op.create_index("ix_activity_starts", "activities", ["starts_at"])
    op.create_index("ix_activity_promise", "activities", ["promise_id"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        *_point_columns(nullable=True),
        sa.Column("area_id", sa.String(100), nullable=True),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at"),
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=True),
        sa.Column("oidc_subject", sa.String(300), nullable=True, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("last_login_at", nullable=True),
        sa.CheckConstraint(
            "role IN ('läsare', 'planerare', 'besiktning', 'administratör')", name="ck_user_role"
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(100), nullable=True),
        sa.Column("target_id", sa.String(100), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )
    op.create_index("ix_audit_at", "audit_log", ["at"])
    op.create_index("ix_audit_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_action", "audit_log", ["action"])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _has_postgis(bind):
        for table in POINT_TABLES:
            # Derived from x_m/y_m, so it can never disagree with them; for GIS tools (QGIS)
            # and spatial SQL. The application itself reads x_m/y_m on both backends.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 3006) "
                "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(x_m, y_m), 3006)) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")


def _has_postgis(bind: sa.Connection) -> bool:
    return bool(
        bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first()
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "users",
        "proposals",
        "activities",
        "promise_targets",
        "promises",
        "issue_photos",
        "issue_history",
        "inspection_issues",
        "inspection_rounds",
    ):
        op.drop_table(table)
