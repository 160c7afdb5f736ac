"""Data: upload your own incidents, dialogue places, boundaries or named places, map columns
and categories, read the validation report, download rejected rows, and use the files in this
session.

Uploaded incidents replace the demo data as a whole (``ui.common.get_data``): no demo
dialogue place, boundary or place name is mixed into them. Files of the other kinds
uploaded first wait for the incidents; the status line says so.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import auth as A
from geo import guards, schema
from geo.errors import InputError
from geo.labels import count_text
from ui import auth, common, sv

KINDS = {
    "incidents": "Händelser",
    "dialogue": "Otrygga platser (medborgardialog)",
    "areas": "Områdesgränser",
    "gazetteer": "Ortnamn (för zonernas namn)",
}
NOTICE = "data_notice"  # the success message shown after the rerun that follows "Använd"
ROLES = {
    "incidents": ("lon", "lat", "x", "y", "time", "category", "id", "weight"),
    "dialogue": ("lon", "lat", "x", "y", "reason", "reason_category", "time_of_day", "mentions"),
}
ROLE_LABELS = {
    "lon": "Longitud",
    "lat": "Latitud",
    "x": "X (meter)",
    "y": "Y (meter)",
    "time": "Tid",
    "category": "Brottstyp",
    "id": "Id",
    "weight": "Vikt",
    "reason": "Skäl",
    "reason_category": "Skälkategori",
    "time_of_day": "Tid på dygnet",
    "mentions": "Antal omnämnanden",
}
AUTO = "(gissa automatiskt)"


@st.cache_data(show_spinner=False, max_entries=8)
def _load(
    kind: str,
    name: str,
    content: bytes,
    mapping: tuple,
    category_map: tuple,
    crs: str | None,
    id_col: str | None,
    name_col: str | None,
):
    from geo import io

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        if kind == "incidents":
            return io.load_incidents(
                path,
                mapping=dict(mapping) or None,
                category_map=dict(category_map) or None,
                crs=crs,
            )
        if kind == "dialogue":
            return io.load_dialogue(path, mapping=dict(mapping) or None, crs=crs)
        if kind == "gazetteer":
            return io.load_gazetteer(path, crs=crs)
        return io.load_boundaries(path, id_col=id_col, name_col=name_col, crs=crs)


def _csv_columns(name: str, content: bytes) -> list[str]:
    if not name.lower().endswith(".csv"):
        return []
    import io as _io

    head = content[:20000].decode("utf-8-sig", errors="replace")
    sep = ";" if head.splitlines()[0].count(";") > head.splitlines()[0].count(",") else ","
    try:
        return list(pd.read_csv(_io.StringIO(head), sep=sep, nrows=5).columns)
    except (ValueError, pd.errors.ParserError):
        return []


def _raw_categories(name: str, content: bytes, column: str | None) -> list[str]:
    if not column or not name.lower().endswith(".csv"):
        return []
    import io as _io

    text = content.decode("utf-8-sig", errors="replace")
    sep = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    values = pd.read_csv(_io.StringIO(text), sep=sep, usecols=[column], dtype=str)[column]
    return sorted(values.dropna().str.strip().unique().tolist())[:200]


def _report(result) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Rader lästa", result.rows)
    c2.metric("Inlästa", result.loaded)
    c3.metric("Avvisade", len(result.rejected))
    if result.reasons:
        st.markdown("**Skäl till avvisning**")
        st.dataframe(
            pd.DataFrame({"skäl": list(result.reasons), "rader": list(result.reasons.values())}),
            hide_index=True,
        )
    # warnings and notes quote the file (column names, values): literal text, not markdown
    for w in result.warnings:
        st.warning(common.md_escape(w))
    for n in result.notes:
        st.caption(common.md_escape(n))
    if result.crs:
        st.caption(f"Koordinatsystem i filen: {common.md_escape(result.crs)}")
    if len(result.rejected):
        # raw police records: role-checked and audited like every other export
        auth.download_button(
            st,
            "Ladda ned avvisade rader (CSV)",
            result.rejected_csv,  # formulas defused (geo.safecsv)
            what="rejected_rows",
            fmt="csv",
            params={"rows": len(result.rejected)},
            file_name="avvisade_rader.csv",
            mime="text/csv",
            key="rejected_rows_dl",
        )


me = auth.require(A.IMPORT_DATA, page="data")
st.title("Data")
data = common.get_data()
common.show_data_status(data)
if st.session_state.get(NOTICE):
    st.success(st.session_state.pop(NOTICE))
st.write(
    f"Används nu: **{common.md_escape(data.label)}** — "
    f"{count_text(len(data.incidents), 'händelse', 'händelser')}, "
    f"{count_text(len(data.areas), 'område', 'områden')}, "
    f"{count_text(0 if data.dialogue is None else len(data.dialogue), 'otrygg plats', 'otrygga platser')}, "
    f"{count_text(0 if data.gazetteer is None else len(data.gazetteer), 'ortnamn', 'ortnamn')}."
)
if data.pending:
    st.info(
        "Uppladdat och väntar på en händelsefil: "
        + ", ".join(common.UPLOAD_KINDS.get(k, k) for k in data.pending)
        + ". Demodatan används tills du laddar upp händelser; då ersätts den helt "
        "(inga demoplatser, demogränser eller demonamn blandas in)."
    )
elif not data.is_demo:
    st.caption(
        "De uppladdade filerna ersätter demodatan helt: utan egna gränser är studieområdet "
        "händelsernas utbredning, utan egna ortnamn får zonerna nummer och område som namn."
    )
if st.session_state.get(common.UPLOAD) and st.button("Gå tillbaka till demodatan"):
    st.session_state.pop(common.UPLOAD)
    common.select_zone(None)
    st.session_state[NOTICE] = "Demodatan används nu på alla sidor."
    st.rerun()

kind = st.radio("Vad vill du ladda upp?", list(KINDS), format_func=KINDS.get, horizontal=True)
upload = sv.file_uploader(
    st,
    "Fil (CSV, GeoJSON, GeoPackage, zippad Shapefile, GeoParquet)",
    ["csv", "geojson", "json", "gpkg", "zip", "parquet"],
    max_bytes=guards.MAX_BYTES,
    key=f"upload_{kind}",
)
if upload is None:
    st.caption(
        "CSV behöver longitud/latitud (WGS 84) eller x/y med koordinatsystem. Kolumnerna "
        "gissas från namnen; ändra gissningen nedan efter uppladdningen."
    )
    st.stop()

try:
    guards.check_upload(upload.name, upload.size, kind=kind)
except InputError as exc:
    common.show_error(exc)
    st.stop()
content = upload.getvalue()
columns = _csv_columns(upload.name, content)
mapping: dict[str, str] = {}
category_map: dict[str, str] = {}
crs = (
    st.text_input("Koordinatsystem för x/y (t.ex. EPSG:3006, EPSG:3011)", "", key=f"crs_{kind}")
    or None
)
id_col = name_col = None
if kind in ROLES and columns:
    with st.expander("Kolumner", expanded=True):
        cols = st.columns(4)
        for i, role in enumerate(ROLES[kind]):
            choice = cols[i % 4].selectbox(
                ROLE_LABELS[role], [AUTO, *columns], key=f"map_{kind}_{role}"
            )
            if choice != AUTO:
                mapping[role] = choice
if kind == "areas" and columns == []:
    c1, c2 = st.columns(2)
    id_col = c1.text_input("Kolumn med områdets id (tomt = gissa)", "") or None
    name_col = c2.text_input("Kolumn med områdets namn (tomt = gissa)", "") or None
if kind == "incidents":
    raws = _raw_categories(upload.name, content, mapping.get("category"))
    if raws:
        with st.expander("Brottstyper → kategorier", expanded=True):
            table = pd.DataFrame(
                {
                    "brottstyp": raws,
                    "kategori": [
                        schema.DEFAULT_CATEGORY_MAP.get(r.lower(), "övrigt") for r in raws
                    ],
                }
            )
            edited = st.data_editor(
                table,
                hide_index=True,
                disabled=["brottstyp"],
                column_config={
                    "kategori": st.column_config.SelectboxColumn(options=list(schema.CATEGORIES))
                },
                key=f"catmap_{upload.name}",
            )
            category_map = dict(zip(edited["brottstyp"], edited["kategori"], strict=True))

try:
    with st.spinner("Läser och kontrollerar filen …"):
        result = _load(
            kind,
            upload.name,
            content,
            tuple(sorted(mapping.items())),
            tuple(sorted(category_map.items())),
            crs,
            id_col,
            name_col,
        )
except InputError as exc:
    common.show_error(exc)
    st.stop()

st.subheader("Kontrollrapport")
_report(result)
if result.loaded and st.button("Använd filen i den här sessionen", type="primary"):
    current = st.session_state.get(common.UPLOAD) or {"frames": {}, "key": ""}
    frames = dict(current["frames"])
    names = dict(current.get("names", {}))
    reports = dict(current.get("reports", {}))
    auth.require(A.IMPORT_DATA, page="data", step="use_file")
    frames[kind], purged = guards.retain(result.frame)  # LAGESBILD_RETENTION_DAYS
    auth.record_import(
        me, kind=kind, file_name=upload.name, content=content, result=result, purged=purged
    )
    digest = hashlib.sha256(
        (current["key"] + kind + hashlib.sha256(content).hexdigest()).encode()
    ).hexdigest()[:16]
    names[kind] = upload.name
    reports[kind] = result.to_json_dict()
    st.session_state[common.UPLOAD] = {
        "frames": frames,
        "key": digest,
        "names": names,
        "reports": reports,
    }
    common.select_zone(None)
    # rerun, so that the status line (here and in the sidebar) already names the new data
    if frames.get("incidents") is None:
        st.session_state[NOTICE] = (
            f"{KINDS[kind]} från {common.md_escape(upload.name)} är sparade i sessionen och används när du "
            "laddar upp händelser; till dess används demodatan."
        )
    else:
        st.session_state[NOTICE] = (
            f"{KINDS[kind]} från {common.md_escape(upload.name)} används nu på alla sidor, i stället för demodatan."
        )
    st.rerun()
