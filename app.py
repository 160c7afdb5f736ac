"""Lägesbild: the Streamlit entry point — navigation over the pages, nothing else."""

import streamlit as st

st.set_page_config(page_title="Lägesbild", page_icon="🗺️", layout="wide")
st.navigation(
    [
        st.Page("pages/karta.py", title="Karta", icon="🗺️", default=True),
        st.Page("pages/hotspots.py", title="Hotspots", icon="🔥"),
        st.Page("pages/data.py", title="Data", icon="📂"),
        st.Page("pages/om.py", title="Om", icon="ℹ️"),
    ]
).run()
