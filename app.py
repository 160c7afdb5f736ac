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
                st.Page("views/karta.py", title="Karta", default=True),
                st.Page("views/hotspots.py", title="Hotspots"),
                st.Page("views/utveckling.py", title="Utveckling över tid"),
            ],
            "Planera och följa upp": [
                st.Page("views/helgforstarkning.py", title="Helgförstärkning"),
                st.Page("views/fore_efter.py", title="Före/efter"),
                st.Page("views/trygghetsbesiktning.py", title="Trygghetsbesiktning"),
                st.Page("views/medborgarloften.py", title="Medborgarlöften"),
            ],
            "Data": [
                st.Page("views/data.py", title="Data"),
                st.Page("views/om.py", title="Om"),
                st.Page("views/granskning.py", title="Granskning"),
            ],
        },
    )
).run()
