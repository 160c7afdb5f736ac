"""Text from files and forms reaches pages as literal text, never as markdown (issue 18):
an uploaded name ``![m](http://host/…)`` must not make every viewer's browser fetch that URL.
Through the pages (AppTest): Data page warnings and notes, the Trygghetsbesiktning round
and photo texts, a Medborgarlöften success message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from geo import inspections as ins
from geo.store import Store
from ui.common import md_escape

ROOT = Path(__file__).resolve().parents[1]
IMG = "![m](http://example.invalid/p.png)"


def _assert_literal(values: list[str], img: str = IMG) -> None:
    """The image markdown is there, escaped, in at least one value, and raw in none."""
    assert any(md_escape(img) in v for v in values), values
    assert not any(img in v for v in values), values


def test_data_page_warnings_are_literal(data_dir):
    at = AppTest.from_file(str(ROOT / "views" / "data.py"), default_timeout=180)
    at.run()
    # a Windows-1252 file: the warning names the file, and the file name is the attack (a
    # file name has no "/", so the image is relative to the app's own host)
    img = "![m](x.png)"
    content = "id,tid,brottstyp,lon,lat\n1,2018-03-01 20:00,rån,17.83,59.42\n2,2018-03-01 21:00,rån,17.83,59.42\nå\n"
    at.file_uploader[0].set_value((f"{img}.csv", content.encode("cp1252"), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    _assert_literal([w.value for w in at.warning] + [c.value for c in at.caption], img)


def test_round_name_and_photo_caption_are_literal(data_dir):
    store = Store(f"sqlite:///{data_dir / 'lagesbild.db'}")
    at = AppTest.from_file(str(ROOT / "views" / "trygghetsbesiktning.py"), default_timeout=180)
    at.session_state["f_user"] = "anna"
    at.run()
    (name,) = [t for t in at.text_input if t.label == "Namn på rundan"]
    name.input(IMG)
    (start,) = [b for b in at.button if b.label == "Starta rundan"]
    start.click()
    at.run()
    assert not at.exception
    _assert_literal([s.value for s in at.success])
    # a photo named like the attack, on the demo round's first issue
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    frame = ins.issues_frame(store)
    iid, version = int(frame["id"].iloc[0]), int(frame["version"].iloc[0])
    ins.add_photo(store, iid, buf.getvalue(), expected_version=version, uploaded_by="anna",
                  filename=IMG)  # fmt: skip
    at.selectbox(key="tb_issue").set_value(iid)
    at.run()
    assert not at.exception
    _assert_literal([img.caption for e in at.get("image") for img in e.proto.imgs])


def test_promise_success_message_is_literal(data_dir):
    at = AppTest.from_file(str(ROOT / "views" / "medborgarloften.py"), default_timeout=180)
    at.session_state["f_user"] = "anna"
    at.run()
    (title,) = [t for t in at.text_input if t.label == "Rubrik"]
    title.input(IMG)
    (save,) = [b for b in at.button if b.label == "Spara löftet"]
    save.click()
    at.run()
    assert not at.exception
    _assert_literal([s.value for s in at.success])
    assert dt.date  # keeps the import for the period widgets' defaults
