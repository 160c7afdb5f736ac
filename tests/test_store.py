"""geo.store on SQLite and PostgreSQL: migrations, pragmas, times, transactions, constraints."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from geo.store import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    Activity,
    AuditEntry,
    Base,
    InspectionRound,
    Promise,
    PromiseTarget,
    Proposal,
    Store,
    User,
    default_url,
    head_revision,
    normalize_url,
    record_audit,
)

pytest_plugins = ("dbfixtures",)  # the db_url and store fixtures

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _round(**kw) -> InspectionRound:
    values = dict(name="R", held_on=dt.date(2026, 3, 1), area_name="A", created_by="anna")
    return InspectionRound(**{**values, **kw})


def test_migrated_schema_matches_models(store):
    import geoalchemy2  # noqa: F401  (lets reflection recognise the PostGIS geometry type)

    assert store.revision() == head_revision() == "0002"
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # On PostGIS the migration adds generated `geom` columns the models do not map.
    diffs = [d for d in diffs if not (d[0] == "remove_column" and d[3].name == "geom")]
    diffs = [d for d in diffs if not (d[0] == "remove_index" and d[1].name.endswith("_geom"))]
    # PostGIS's own table sits in the public schema, which is on the search path.
    diffs = [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    assert diffs == []


def test_open_twice_is_idempotent(db_url):
    first = Store(db_url)
    with first.session() as s:
        s.add(_round())
    first.close()
    second = Store(db_url)
    assert second.revision() == "0002"
    assert not second.is_empty(InspectionRound)
    second.close()


def test_concurrent_open_migrates_once(db_url):
    # Four threads open the same empty database at once; each must come up at head.
    errors, stores = [], []

    def open_store():
        try:
            stores.append(Store(db_url))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {s.revision() for s in stores} == {"0002"}
    for s in stores:
        s.close()


def test_sqlite_pragmas(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    s.close()


def test_default_url_uses_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{(tmp_path / 'data' / 'lagesbild.db').as_posix()}"
    s = Store()
    assert (tmp_path / "data" / "lagesbild.db").is_file()
    s.close()


def test_database_url_env_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert default_url().endswith("other.db")


@pytest.mark.parametrize(
    ("url", "match"),
    [("mysql://u@h/db", 'backend was "mysql"'), ("::nonsense", "could not be parsed")],
    ids=["mysql", "garbage"],
)
def test_normalize_url_rejects(url, match):
    with pytest.raises(ValueError, match=match):
        normalize_url(url)


def test_times_round_trip_tz_aware(store):
    # 2026-03-29 is the spring DST change: 01:30 UTC is 03:30 CEST in Stockholm.
    start = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    with store.session() as s:
        s.add(Activity(activity_type="synlig närvaro", starts_at=start, created_by="anna"))
    with store.read_session() as s:
        got = s.scalar(sa.select(Activity.starts_at))
    assert got == start
    assert got.tzinfo is not None and got.utcoffset() == dt.timedelta(hours=2)
    assert (got.hour, got.minute) == (3, 30)


def test_naive_time_is_refused(store):
    with pytest.raises(sa.exc.StatementError, match="has no time zone"):
        with store.session() as s:
            s.add(
                Activity(
                    activity_type="nattvandring",
                    starts_at=dt.datetime(2026, 3, 1, 22),
                    created_by="anna",
                )
            )
    assert store.is_empty(Activity)


def test_exception_in_session_rolls_back_everything(store):
    with pytest.raises(RuntimeError, match="boom"):
        with store.session() as s:
            s.add(_round())
            s.flush()  # the row reached the database inside the transaction
            record_audit(s, actor="anna", action="round.create")
            raise RuntimeError("boom")
    assert store.is_empty(InspectionRound)
    assert store.is_empty(AuditEntry)


@pytest.mark.parametrize(
    "bad",
    [
        User(username="x", role="superuser"),
        PromiseTarget(kind="maybe", promise_id=None),
    ],
    ids=["role", "target-kind"],
)
def test_check_constraints(store, bad):
    with pytest.raises(sa.exc.IntegrityError):
        with store.session() as s:
            if isinstance(bad, PromiseTarget):
                p = Promise(
                    title="P",
                    period_start=dt.date(2026, 1, 1),
                    period_end=dt.date(2026, 12, 31),
                    created_by="anna",
                )
                p.targets.append(bad)
                s.add(p)
            else:
                s.add(bad)


def test_foreign_keys_enforced(store):
    from geo.store import InspectionIssue

    with pytest.raises(sa.exc.IntegrityError):
        with store.session() as s:
            s.add(
                InspectionIssue(
                    round_id=999,
                    lon=17.8,
                    lat=59.4,
                    x_m=1.0,
                    y_m=2.0,
                    category="klotter",
                    severity=1,
                    responsible="SL",
                    marked_by="anna",
                    updated_by="anna",
                )
            )


def test_promise_model_for_later_issues(store):
    with store.session() as s:
        p = Promise(
            title="Tryggare Jakobsberg",
            period_start=dt.date(2018, 1, 1),
            period_end=dt.date(2018, 12, 31),
            area_ids=["jarfalla"],
            partners=["polis", "kommun", "SL"],
            created_by="anna",
        )
        p.targets.append(
            PromiseTarget(
                kind="count",
                activity_type="synlig närvaro",
                minimum=10,
                conditions={"evening_share_min": 0.5},
                description="minst tio synlig närvaro, mest kvällstid",
            )
        )
        s.add(p)
        s.add(
            Proposal(
                text="Mer närvaro vid perrongen", proposed_on=dt.date(2018, 5, 2), created_by="anna"
            )
        )
    with store.read_session() as s:
        got = s.scalars(sa.select(Promise)).one()
        assert [t.conditions for t in got.targets] == [{"evening_share_min": 0.5}]
        assert got.partners == ["polis", "kommun", "SL"]
        assert s.scalar(sa.select(Proposal.status)) == "ny"


def test_postgis_geom_follows_xy(store):
    from geo.inspections import create_issue, create_round

    if store.dialect != "postgresql":
        pytest.skip("PostGIS geometry columns exist only on PostgreSQL")
    rid = create_round(
        store, name="R", held_on=dt.date(2026, 3, 1), area_name="A", created_by="anna"
    )
    iid = create_issue(
        store,
        round_id=rid,
        lon=17.8336,
        lat=59.4236,
        category="klotter",
        severity=1,
        responsible="SL",
        marked_by="anna",
    )
    with store.engine.connect() as conn:
        x, y, gx, gy, srid = conn.exec_driver_sql(
            "SELECT x_m, y_m, ST_X(geom), ST_Y(geom), ST_SRID(geom) "
            f"FROM inspection_issues WHERE id = {iid}"
        ).one()
    assert (gx, gy, srid) == (x, y, 3006)


def test_killed_writer_leaves_no_half_rows(db_url):
    # A child process commits one round, then inserts a second round and an audit row in an
    # open transaction and is killed (SIGKILL) before committing. The first must survive,
    # the second must vanish completely.
    Store(db_url).close()
    script = textwrap.dedent(
        f"""
        import datetime as dt, sys, time
        from geo.store import Store, InspectionRound, record_audit
        s = Store({db_url!r})
        with s.session() as ses:
            ses.add(InspectionRound(name="klar", held_on=dt.date(2026, 3, 1),
                                    area_name="A", created_by="anna"))
        with s.session() as ses:
            ses.add(InspectionRound(name="halv", held_on=dt.date(2026, 3, 1),
                                    area_name="A", created_by="anna"))
            ses.flush()
            record_audit(ses, actor="anna", action="round.create")
            ses.flush()
            print("flushed", flush=True)
            time.sleep(120)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "flushed"
    finally:
        child.kill()
        child.wait(timeout=30)
    s = Store(db_url)
    with s.read_session() as ses:
        assert ses.scalars(sa.select(InspectionRound.name)).all() == ["klar"]
        assert ses.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    if s.dialect == "sqlite":
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # and the database takes writes again (no stale lock left behind)
    with s.session() as ses:
        ses.add(_round(name="efter"))
    s.close()
