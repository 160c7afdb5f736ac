"""Suite-wide test environment.

The app keeps what users write (the database, the accounts file) under
``LAGESBILD_DATA_DIR``. Tests get a fresh folder for it, and demo mode for sign-in, so a
developer's own ``var/`` (a real accounts file, a used database) never changes what a test
sees, and tests never write into the working tree.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config):
    if "LAGESBILD_DATA_DIR" not in os.environ:
        os.environ["LAGESBILD_DATA_DIR"] = tempfile.mkdtemp(prefix="lagesbild-test-")
    os.environ.setdefault("LAGESBILD_AUTH", "demo")
    # A configured production database must never receive test writes.
    os.environ.pop("LAGESBILD_DATABASE_URL", None)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data folder for one test, on the embedded SQLite default (no server URL)."""
    from geo.store import DATA_DIR_ENV, DATABASE_URL_ENV

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    return tmp_path
