"""Shared pieces for browser tests that act as a user: the real app in Debian's chromium.

``app_server(data_dir)`` starts ``streamlit run app.py`` on a free port in its own process
group with its own ``LAGESBILD_DATA_DIR`` (a fresh SQLite database the test can read
back), waits for ``/_stcore/health`` and stops the group afterwards. ``launch(p)`` opens
``/usr/bin/chromium`` (never a downloaded browser). The helpers wait for *states* — a
heading, a text, the end of a script run — never for fixed times, so they hold on a
busy machine.

A Streamlit session lives as long as its websocket: ``page.goto`` starts a new session,
so tests that check what carries over between pages change pages with ``go_to`` (a click
on the sidebar navigation), as a user does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
LONG = 240_000  # ms: an upper bound for one page's first run on a loaded 2-core machine


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("/usr/bin/chromium is missing in CI (apt-get install chromium)")
    pytest.skip("/usr/bin/chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(data_dir: Path, *, name: str = "streamlit"):
    """Run the app with ``LAGESBILD_DATA_DIR=data_dir`` (demo sign-in); yield its URL."""
    require_chromium()
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LAGESBILD_TILES": "none", "LAGESBILD_DATA_DIR": str(data_dir)}
    env.pop("LAGESBILD_DATABASE_URL", None)
    env["LAGESBILD_AUTH"] = "demo"
    with open(ARTIFACTS / f"{name}.log", "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],  # fmt: skip
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a whole below
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start; see {ARTIFACTS / name}.log")
                time.sleep(0.5)  # polling a server that is starting, not waiting for the UI
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def launch(p):
    """Debian's chromium through Playwright (``p`` from ``sync_playwright()``)."""
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_idle(page, timeout: int = LONG) -> None:
    """Wait until the app has finished its script run (no "running" status, no spinner)."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            if (document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')) return false;
            if (document.querySelector('[data-testid="stSpinner"]')) return false;
            return app.getAttribute('data-test-script-state') !== 'running';
        }""",
        timeout=timeout,
    )


def open_app(page, url: str, path: str = "", heading: str | None = None) -> None:
    """Open ``url/path`` (a new session) and wait for its heading and the end of the run."""
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    if heading:
        page.get_by_role("heading", name=heading).first.wait_for(timeout=LONG)
    wait_idle(page)


def go_to(page, title: str, heading: str | None = None) -> None:
    """Change page as a user does, in the same session: click ``title`` in the navigation."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.get_by_role("heading", name=heading or title).first.wait_for(timeout=LONG)
    wait_idle(page)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def text_input(scope, label: str):
    """The ``<input>`` of the Streamlit text input labelled exactly ``label``."""
    return scope.get_by_role("textbox", name=label, exact=True).first


def _combobox(scope, label: str):
    # Streamlit's selectbox is a react-aria ComboBox whose input carries the label
    return scope.get_by_role("combobox", name=label, exact=True).first


def choose_option(page, scope, label: str, option: str, *, exact: bool = True) -> None:
    """Pick ``option`` (or, with ``exact=False``, the first option containing it) in the
    selectbox labelled ``label``.

    A rerun's redraw (a map's first report, say) can close the list between opening it and
    clicking: the whole pick is tried again until the box shows the choice."""
    box = _combobox(scope, label)
    check = "([el, want, exact]) => exact ? el.value.trim() === want : el.value.includes(want)"
    for attempt in range(5):
        last = attempt == 4
        try:
            _pick_once(page, box, option, exact)
            page.wait_for_function(
                check, arg=[box.element_handle(), option, exact], timeout=LONG if last else 10_000
            )
            return
        except Exception:
            if last:
                page.screenshot(path=str(ARTIFACTS / "choose_option_failed.png"), full_page=True)
                raise
            page.keyboard.press("Escape")
            wait_idle(page)


def _pick_once(page, box, option: str, exact: bool) -> None:
    """Open the list of ``box`` and click ``option`` in it (one try)."""
    # in the middle of the window, so that the option list opens inside it
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    box.locator("xpath=..").get_by_role("button", name="Open").click()
    listbox = page.get_by_role("listbox").last
    try:
        listbox.wait_for(timeout=10_000)
    except Exception:  # the click landed during a rerun's redraw: open it from the keyboard
        box.focus()
        box.press("ArrowDown")
        listbox.wait_for(timeout=10_000)
    if exact:
        item = listbox.get_by_role("option", name=option, exact=True).first
    else:
        item = listbox.get_by_role("option").filter(has_text=option).first
    try:
        item.click(timeout=5_000)
    except Exception:  # the popover opened partly outside the window: a virtual click
        item.dispatch_event("click", timeout=5_000)


def selectbox_text(scope, label: str) -> str:
    """What the selectbox labelled ``label`` shows."""
    return _combobox(scope, label).input_value().strip()


def all_text(page) -> str:
    """The page's visible text and the HTML of every iframe (maps carry text in popups)."""
    parts = [page.locator("body").inner_text()]
    for frame in page.frames[1:]:
        with contextlib.suppress(Exception):  # a frame can detach while being read
            parts.append(frame.content())
    return "\n".join(parts)
