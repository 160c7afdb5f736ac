"""geo.audit on SQLite and PostgreSQL: recording, filtering, CSV export."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from geo import audit

pytest_plugins = ("dbfixtures",)
STHLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def log(store, monkeypatch):
    """Five entries on three days (Stockholm time), written at those times (the log is
    append-only, so the clock is set rather than the rows changed afterwards)."""
    import geo.store

    days = iter(
        dt.datetime(y, m, d, h, 30, tzinfo=STHLM)
        for y, m, d, h in [
            (2026, 3, 1, 9),
            (2026, 3, 1, 23),
            (2026, 3, 2, 0),
            (2026, 3, 3, 12),
            (2026, 3, 3, 13),
        ]  # fmt: skip
    )
    monkeypatch.setattr(geo.store, "now", lambda: next(days))
    audit.record_login(store, "anna", "planerare", mode="local")
    audit.record_export(
        store, "anna", "planerare", what="zones", fmt="pdf", k=3, start=dt.date(2018, 3, 1)
    )
    audit.record_import(
        store,
        "bo",
        "administratör",
        kind="incidents",
        file_name="brott=2018.csv",
        sha256="ab" * 32,
        rows=10,
        loaded=9,
        rejected=1,
    )
    audit.record_denied(store, "cia", "läsare", "import_data", page="data")
    audit.record_deletion(store, "bo", "administratör", target_type="user", target_id="cia")
    monkeypatch.undo()
    return store


def test_entries_newest_first_with_json_params(log):
    frame = audit.audit_frame(log)
    assert frame["action"].tolist() == [
        "user.delete",
        "auth.denied",
        "data.import",
        "export.zones",
        "auth.login",
    ]
    assert frame["at"].iloc[0] == dt.datetime(2026, 3, 3, 13, 30, tzinfo=STHLM)
    export = json.loads(frame.loc[frame["action"] == "export.zones", "params"].iloc[0])
    assert export == {"fmt": "pdf", "k": 3, "start": "2018-03-01"}
    assert frame.loc[frame["action"] == "auth.denied", "outcome"].tolist() == ["nekad"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # 2026-03-01 covers 09:30 and 23:30 Stockholm time (23:30 is 22:30 UTC: same local day)
        (
            {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 1)},
            ["export.zones", "auth.login"],
        ),
        ({"start": dt.date(2026, 3, 2)}, ["user.delete", "auth.denied", "data.import"]),
        (
            {"end": dt.datetime(2026, 3, 2, 0, 30, tzinfo=STHLM)},
            ["data.import", "export.zones", "auth.login"],
        ),
        ({"actors": ["bo"]}, ["user.delete", "data.import"]),
        ({"actions": ["export.", "auth.login"]}, ["export.zones", "auth.login"]),
        ({"actions": ["auth.*"]}, ["auth.denied", "auth.login"]),
        ({"outcomes": ["nekad"]}, ["auth.denied"]),
        ({"text": "BRott="}, ["data.import"]),
        ({"text": '"k": 3'}, ["export.zones"]),
        ({"limit": 2}, ["user.delete", "auth.denied"]),
        ({"text": "a", "limit": 1}, ["user.delete"]),
    ],
    ids=[
        "one-day",
        "from",
        "until-datetime",
        "actor",
        "prefix",
        "star",
        "outcome",
        "text-target",
        "text-params",
        "limit",
        "text-limit",
    ],
)
def test_filters(log, kwargs, expected):
    assert audit.audit_frame(log, **kwargs)["action"].tolist() == expected


def test_distinct_values_and_csv(log):
    assert audit.distinct_values(log, "actor") == ["anna", "bo", "cia"]
    with pytest.raises(ValueError, match="column was 'params'"):
        audit.distinct_values(log, "params")
    text = audit.to_csv(audit.audit_frame(log, actors=["bo"])).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "tid,användare,roll,händelse,objekttyp,objekt,parametrar,utfall,nr,kedjehash"
    assert lines[1].startswith(
        "2026-03-03T13:30:00+01:00,bo,administratör,user.delete,user,cia,{},ok,5,"
    )


def test_csv_defuses_formulas(store):
    audit.record_import(
        store,
        "=HYPERLINK(1)",
        None,
        kind="incidents",
        file_name="@x.csv",
        sha256="0",
        rows=1,
        loaded=1,
        rejected=0,
    )
    text = audit.to_csv(audit.audit_frame(store)).decode("utf-8-sig")
    assert ",'=HYPERLINK(1),," in text and ",'@x.csv," in text


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"outcome": "kanske"}, ValueError, "outcome was 'kanske'"),
        ({"actor": " "}, ValueError, "actor and action must be given"),
    ],
    ids=["outcome", "actor"],
)
def test_record_validates(store, kwargs, error, match):
    args = {"actor": "anna", "action": "x", **kwargs}
    with pytest.raises(error, match=match):
        audit.record(store, **args)
    assert audit.audit_frame(store).empty


def test_naive_datetime_filter_refused(store):
    with pytest.raises(ValueError, match="has no time zone"):
        audit.audit_frame(store, start=dt.datetime(2026, 1, 1))


def test_jsonable():
    value = {
        "a": (np.float64(1.5), np.int32(2)),
        "t": pd.Timestamp("2026-01-01", tz="UTC"),
        "n": np.nan,
        "o": object,
    }
    out = audit.jsonable(value)
    assert out == {
        "a": [1.5, 2],
        "t": "2026-01-01T00:00:00+00:00",
        "n": None,
        "o": "<class 'object'>",
    }
    json.dumps(out)  # serialisable


# --- tamper evidence ------------------------------------------------------------------------
def _without_guard(store, sql: str, **params) -> None:
    """What a service account with the database's password can do: drop the append-only
    triggers and change the log behind the app's back."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.execute(sa.text(sql), params)


def test_chain_is_whole_after_normal_use(log):
    check = audit.verify_chain(log)
    assert (check.ok, check.entries, check.head_seq) == (True, 5, 5)
    assert check.summary.startswith("Granskningsloggen är obruten: 5 poster kontrollerade")
    assert audit.verify_chain(log, anchor=(check.head_seq, check.head_hash)).ok


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_log SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3"],
    ids=["update", "delete"],
)
def test_the_database_refuses_changes_to_the_log(log, sql):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with log.engine.begin() as conn:
            conn.execute(sa.text(sql))
    assert audit.verify_chain(log).ok


def test_truncate_refused_on_postgres(log):
    if log.dialect != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL (SQLite's DELETE is refused above)")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with log.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_log")


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        # a role changed after the fact: entry 4's hash no longer matches its content
        ("UPDATE audit_log SET role = 'administratör' WHERE seq = 4", "Post nr 4 (auth.denied"),
        # entry 2 deleted: the chain jumps from 1 to 3
        ("DELETE FROM audit_log WHERE seq = 2", "Poster nr 2–2 saknas"),
    ],
    ids=["edited", "deleted"],
)
def test_tampering_is_detected(log, sql, problem):
    _without_guard(log, sql)
    check = audit.verify_chain(log)
    assert not check.ok
    assert check.problems[0].startswith(problem)
    assert check.summary.startswith("Granskningsloggen har ändrats i efterhand")


def test_renumbered_entries_are_detected(log):
    # delete entry 3 and move 4 and 5 down, so the numbers run 1..4 without a gap
    _without_guard(log, "DELETE FROM audit_log WHERE seq = 3")
    with log.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3"))
    problems = audit.verify_chain(log).problems
    assert problems[0] == "Post nr 3 pekar inte på post nr 2."


def test_cut_off_end_is_detected_with_an_anchor(log):
    head = audit.verify_chain(log)
    _without_guard(log, "DELETE FROM audit_log WHERE seq = 5")
    assert audit.verify_chain(log).ok  # the shorter chain is whole in itself ...
    check = audit.verify_chain(log, anchor=(head.head_seq, head.head_hash))
    assert check.problems == [  # ... but the entry noted earlier is gone
        "Post nr 5 som fanns vid en tidigare kontroll saknas: loggen har kortats."
    ]


def test_concurrent_writers_keep_one_chain(store):
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> int:
        return audit.record(store, actor=f"u{i % 4}", action="export.zones", params={"i": i})

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(write, range(30)))
    assert len(set(ids)) == 30
    check = audit.verify_chain(store)
    assert (check.ok, check.entries, check.head_seq) == (True, 30, 30)


def test_granskning_page_shows_the_check(tmp_path, monkeypatch):
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from geo.store import Store

    monkeypatch.setenv("LAGESBILD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LAGESBILD_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAGESBILD_AUTH", "demo")
    st.cache_resource.clear()
    page = str(Path(__file__).resolve().parents[1] / "views" / "granskning.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert not at.exception
    assert at.success[0].value.startswith("Granskningsloggen är obruten")
    store = Store()
    _without_guard(store, "UPDATE audit_log SET actor = 'någon annan' WHERE seq = 1")
    at.run()
    assert at.error[0].value.startswith("Granskningsloggen har ändrats i efterhand: Post nr 1")
    st.cache_resource.clear()
