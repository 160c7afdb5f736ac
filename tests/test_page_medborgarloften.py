"""AppTest: the Medborgarlöften page on the demo data and a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from geo import promises as pr
from geo.store import AuditEntry, Store

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "medborgarloften.py")
# Beside Jakobsbergs station.
CLICK = {"lat": 59.4238, "lng": 17.8340}


def _store(data_dir) -> Store:
    return Store(f"sqlite:///{data_dir / 'lagesbild.db'}")


def _run(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["f_user"] = "anna"
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_first_start_seeds_both_promises_and_shows_progress(data_dir):
    at = _run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    options = at.selectbox(key="ml_promise").options
    assert any("Järfälla 2018" in o for o in options)
    assert any("Farsta 2018" in o for o in options)
    texts = " ".join(m.value for m in at.markdown)
    assert "Minst tio insatser med synlig närvaro" in texts
    # the progress bars carry the detail text of every target (5 Järfälla targets)
    assert len(at.get("progress")) == 5
    assert "Utkast till nästa års löfte" in [h.value for h in at.header]
    assert "Jakobsbergs station" in at.text_area(key="ml_draft_1").value


def test_farsta_names_the_missing_stadsdelar(data_dir):
    at = _run()
    at.selectbox(key="ml_promise").set_value(2).run()  # the demo's second promise: Farsta
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Saknas: " in captions and "Larsboda" in captions and "Fagersjö" in captions


def test_clicked_point_and_form_store_an_activity(data_dir):
    at = _run(ml_click=CLICK)
    form_type = next(s for s in at.selectbox if s.label == "Typ")
    form_type.set_value("narkotikainsats")
    next(t for t in at.text_input if t.label == "Platsens namn").input("Perrongerna")
    next(b for b in at.button if b.label == "Spara aktiviteten").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    store = _store(data_dir)
    acts = pr.activities_frame(store, promise_id=1)
    new = acts[acts["place_name"] == "Perrongerna"]
    assert len(new) == 1 and new["activity_type"].iloc[0] == "narkotikainsats"
    assert abs(new["lat"].iloc[0] - CLICK["lat"]) < 1e-9
    with store.read_session() as s:
        # the signed-in (demo) user is the actor; the typed name is a note
        rows = s.execute(sa.select(AuditEntry.action, AuditEntry.actor, AuditEntry.params)).all()
    actions = [a for a, actor, p in rows if actor == "demo" and p.get("stated_by") == "anna"]
    assert "activity.create" in actions


def test_report_button_makes_download_and_audits(data_dir):
    at = _run()
    at.button(key="ml_make_html").click().run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Ladda ned HTML" in labels
    with _store(data_dir).read_session() as s:
        rows = s.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "promise.report_export")
        ).all()
    assert [(r.actor, r.role, r.params["format"], r.params["stated_by"]) for r in rows] == [
        ("demo", "administratör", "html", "anna")
    ]


INJECTED = "![x](http://example.invalid/a.png) **fet**"


def test_target_description_is_shown_as_literal_text(data_dir):
    """A description typed into a form is literal text, never a remote image or bold."""
    from ui.common import md_escape

    assert not _run().exception  # seeds the demo promises
    store = _store(data_dir)
    for pid in pr.promises_frame(store)["id"]:
        pr.add_target(store, int(pid), pr.TargetSpec(pr.TASK, INJECTED, due_on=None), editor="anna")
    at = _run()
    assert not at.exception, at.exception
    texts = [m.value for m in at.markdown]
    escaped = r"\!\[x\]\(http://example\.invalid/a\.png\) \*\*fet\*\*"
    assert md_escape(INJECTED) == escaped
    assert f"**{escaped}** — " in " ".join(texts)
    shown = texts + [c.value for c in at.caption] + [p.proto.text for p in at.get("progress")]
    assert not [t for t in map(str, shown) if "![" in t or "**fet" in t]
