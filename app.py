"""Lägesbild: the Streamlit entry point — navigation over the pages, nothing else."""

import streamlit as st

from ui import auth, sv

st.set_page_config(page_title="Lägesbild", layout="wide")
sv.install()  # Swedish for Streamlit's own texts (ui/sv.py)
user = auth.login()  # login form (or OIDC) until signed in; demo mode needs none
auth.show_user(user)
st.navigation(
    auth.visible_pages(
        user,
        {
            "Lägesbild": [
                st.Page("pages/karta.py", title="Karta", default=True),
                st.Page("pages/hotspots.py", title="Hotspots"),
            ],
            "Planera och följa upp": [
                st.Page("pages/helgforstarkning.py", title="Helgförstärkning"),
                st.Page("pages/fore_efter.py", title="Före/efter"),
                st.Page("pages/trygghetsbesiktning.py", title="Trygghetsbesiktning"),
                st.Page("pages/medborgarloften.py", title="Medborgarlöften"),
            ],
            "Data": [
                st.Page("pages/data.py", title="Data"),
                st.Page("pages/om.py", title="Om"),
                st.Page("pages/granskning.py", title="Granskning"),
            ],
        },
    )
).run()
