"""ui.serve warms the server without importing Streamlit (whose config would then be fixed
before ``streamlit run`` reads it: static serving off, a blank map)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_warm_up_runs_and_leaves_streamlit_unimported(tmp_path):
    code = (
        "import sys\n"
        "from ui import serve\n"
        "took = serve.warm()\n"
        "assert took > 0\n"
        "print(sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.')))\n"
    )
    env = {**os.environ, "LAGESBILD_DATA_DIR": str(tmp_path), "LAGESBILD_AUTH": "demo"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
    assert (tmp_path / "lagesbild.db").exists()  # the database was opened (and migrated)
