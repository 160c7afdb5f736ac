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
from geo.store import AuditEntry

pytest_plugins = ("dbfixtures",)
STHLM = ZoneInfo("Europe/Stockholm")


def _at(store, entry_id: int, when: dt.datetime) -> None:
    with store.session() as s:
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(at=when))


@pytest.fixture
def log(store):
    """Five entries on three days (Stockholm time)."""
    ids = [
        audit.record_login(store, "anna", "planerare", mode="local"),
        audit.record_export(
            store, "anna", "planerare", what="zones", fmt="pdf", k=3, start=dt.date(2018, 3, 1)
        ),
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
        ),
        audit.record_denied(store, "cia", "läsare", "import_data", page="data"),
        audit.record_deletion(store, "bo", "administratör", target_type="user", target_id="cia"),
    ]
    days = [(2026, 3, 1, 9), (2026, 3, 1, 23), (2026, 3, 2, 0), (2026, 3, 3, 12), (2026, 3, 3, 13)]
    for i, (y, m, d, h) in zip(ids, days, strict=True):
        _at(store, i, dt.datetime(y, m, d, h, 30, tzinfo=STHLM))
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
    assert lines[0] == "tid,användare,roll,händelse,objekttyp,objekt,parametrar,utfall"
    assert lines[1].startswith(
        "2026-03-03T13:30:00+01:00,bo,administratör,user.delete,user,cia,{},ok"
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
