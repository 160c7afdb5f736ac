"""Property test: whatever the cells hold, every row is loaded or rejected exactly once."""

from __future__ import annotations

import csv
import io as stdio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import io, schema
from geo.errors import InputError

LON = ["17.8336", "18.0931", "17,83", "", "NaN", "abc", "1e10", "59.42", "-999", " 17.9 "]
LAT = ["59.4236", "59.2436", "59,42", "", "inf", "x", "17.83", "99", " 59.3 "]
TIME = ["2018-03-02 23:30", "2018-03-25 02:30", "2018-10-28 02:30", "2018-06-01T10:00Z",
        "2018-02-30 10:00", "", "igår", "2018-06-01T10:00:00+01:00", "2017-12-31"]  # fmt: skip
CATEGORY = ["misshandel", "Rån", "okänt brott", "", "0312", "KLOTTER"]
ID = ["A", "B", "C", "", "A1", "007"]

cells = st.tuples(*(st.sampled_from(v) for v in (ID, TIME, CATEGORY, LON, LAT)))


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(cells, min_size=1, max_size=25))
def test_every_row_loaded_or_rejected_once(rows, tmp_path: Path) -> None:
    buf = stdio.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "tid", "brottstyp", "lon", "lat"])
    writer.writerows(rows)
    path = tmp_path / "h.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    try:
        res = io.load_incidents(path)
    except InputError as exc:  # only whole-file findings, e.g. every point swapped
        assert "h.csv" in str(exc)
        return
    assert res.loaded + len(res.rejected) == res.rows == len(rows)
    seen = sorted(res.frame[schema.ROW].tolist() + res.rejected[schema.ROW].tolist())
    assert seen == list(range(2, len(rows) + 2))
    assert set(res.reasons) <= set(io.REASONS)
    assert sum(res.reasons.values()) == len(res.rejected)
    assert res.frame[schema.ID].is_unique
    assert set(res.frame[schema.CATEGORY]) <= set(schema.CATEGORIES)
