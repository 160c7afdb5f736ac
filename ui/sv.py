"""Swedish for Streamlit's own texts: widget defaults, upload limits and a text translator.

Streamlit's UI is English and has no locale setting (1.67). Where a widget takes a
parameter the text is set with it — the least fragile way:

* ``multiselect``: ``placeholder`` is Swedish and the "Select all" row is switched off
  (``select_all=False``): it was the first item in short lists such as Aktörer, easy to pick
  by mistake.
* ``file_uploader``: ``max_upload_size`` is the real guard's limit (``geo.guards`` for data
  files, ``geo.inspections.MAX_PHOTO_BYTES`` for photos), so Streamlit refuses what the guard
  would refuse, and the limit is written in Swedish under the uploader.
* ``date_input``: the format is ISO (``YYYY-MM-DD``), as Swedish dates are written.

Streamlit has no parameter for the uploader's "Drag and drop a file here", its "Upload"
button and "5MB per file", the dropdowns' "No results", the date picker's month and day
names, "Press Enter to apply" under text inputs, "Running…" in the status corner, or the
app menu. :func:`install` puts one small script on every page that replaces exactly these
texts (the table :data:`TEXTS`), and only inside Streamlit's own widgets (their
``data-testid`` and ``data-baseweb`` containers), never in content from files or users.
If a Streamlit upgrade changes a text, the browser test
``tests/test_browser_swedish.py`` fails and names it.
"""

from __future__ import annotations

import json
import math

import streamlit as st

#: Placeholder for every multiselect.
CHOOSE_MANY = "Välj en eller flera"
#: Placeholder for a selectbox with no choice yet.
CHOOSE_ONE = "Välj"
MB = 1024 * 1024

#: Streamlit's English texts (exact, whole text of an element) and their Swedish.
TEXTS: dict[str, str] = {
    "Drag and drop a file here": "Dra och släpp en fil här",
    "Drag and drop files here": "Dra och släpp filer här",
    "Drag and drop directories here": "Dra och släpp mappar här",
    "Upload": "Välj fil",
    "Upload directories": "Välj mapp",
    "Browse files": "Välj fil",
    "Click to retry upload": "Klicka för att försöka igen",
    "Upload failed": "Uppladdningen misslyckades",
    "Too many files": "För många filer",
    "Choose an option": CHOOSE_ONE,
    "Choose options": CHOOSE_MANY,
    "Choose or add an option": "Välj eller skriv till",
    "Choose or add options": "Välj eller skriv till",
    "Add an option": "Skriv till ett val",
    "Add options": "Skriv till val",
    "Select all": "Välj alla",
    "Clear all": "Rensa alla",
    "No results": "Inga träffar",
    "No options to select": "Inga val",
    "Choose date": "Välj datum",
    "Choose date range": "Välj period",
    "Press Enter to apply": "Tryck Enter för att använda",
    "Press Enter to submit form": "Tryck Enter för att skicka",
    "Running...": "Arbetar …",
    "Stop": "Avbryt",
    "Rerun": "Kör om",
    "Settings": "Inställningar",
    "Print": "Skriv ut",
    "Record a screencast": "Spela in skärmen",
    "About": "Om Streamlit",
    "Clear cache": "Töm cacheminnet",
    "January": "januari",
    "February": "februari",
    "March": "mars",
    "April": "april",
    "May": "maj",
    "June": "juni",
    "July": "juli",
    "August": "augusti",
    "September": "september",
    "October": "oktober",
    "November": "november",
    "December": "december",
    "Previous month": "Föregående månad",
    "Next month": "Nästa månad",
    "Use arrow keys to navigate dates. Enter to select. Escape to close.": (
        "Välj datum med piltangenterna, Enter väljer och Escape stänger."
    ),
    "Selected values": "Valda",
    "Multiselect options": "Val",
    "Selectbox options": "Val",
    "Date range": "Period",
}
#: The calendar's day letters as Streamlit draws them (English, Sunday first), and Swedish.
CALENDAR_DAYS = (["S", "M", "T", "W", "T", "F", "S"], ["sö", "må", "ti", "on", "to", "fr", "lö"])
#: Texts with a number in them: (JavaScript regular expression, replacement).
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^Select (\d+) matches$", "Välj $1 träffar"),
    (r"^(\d+(?:\.\d+)?)\s?([KMG]B) per file(.*)$", "högst $1 $2 per fil$3"),
    (
        r"^(January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})$",
        "$1 $2",
    ),
    (r"^Choose date range, (\w+) (\d{4})$", "Välj period, $1 $2"),
    (r"^Choose date, (\w+) (\d{4})$", "Välj datum, $1 $2"),
    (r"^Help for (.*)$", "Hjälp om $1"),
    (r"^Remove (.*)$", "Ta bort $1"),
)
#: The containers whose text is Streamlit's own (never a user's or a file's content).
SCOPES = (
    '[data-testid="stFileUploader"]',
    '[data-testid="stMultiSelect"]',
    '[data-testid="stSelectbox"]',
    '[data-testid="stDateInput"]',
    '[data-testid="stTextInput"]',
    '[data-testid="stTextArea"]',
    '[data-testid="stNumberInput"]',
    '[data-testid="InputInstructions"]',
    '[data-testid="stStatusWidget"]',
    '[data-testid="stMainMenuPopover"]',
    '[data-baseweb="popover"]',
    '[data-baseweb="calendar"]',
    '[data-testid="stMultiSelectDropdown"]',
    '[data-testid="stTooltipIcon"]',
    '[role="listbox"]',
    '[role="dialog"]',
)

_SCRIPT = """
<script>
(function () {
  if (window.__lagesbildSv) { return; }
  window.__lagesbildSv = true;
  var TEXTS = %(texts)s;
  var PATTERNS = %(patterns)s.map(function (p) { return [new RegExp(p[0]), p[1]]; });
  var MONTHS = {January: "januari", February: "februari", March: "mars", April: "april",
    May: "maj", June: "juni", July: "juli", August: "augusti", September: "september",
    October: "oktober", November: "november", December: "december"};
  var SCOPE = %(scope)s;
  function swedish(text) {
    var t = text.trim();
    if (!t) { return null; }
    if (Object.prototype.hasOwnProperty.call(TEXTS, t)) { return TEXTS[t]; }
    for (var i = 0; i < PATTERNS.length; i++) {
      if (PATTERNS[i][0].test(t)) {
        var out = t.replace(PATTERNS[i][0], PATTERNS[i][1]);
        return out.replace(/\\b(January|February|March|April|May|June|July|August|September|October|November|December)\\b/,
          function (m) { return MONTHS[m]; });
      }
    }
    return null;
  }
  function fixNode(node) {
    var parent = node.parentElement;
    if (!parent || !parent.closest(SCOPE)) { return; }
    var sv = swedish(node.nodeValue);
    if (sv !== null && sv !== node.nodeValue.trim()) { node.nodeValue = sv; }
  }
  function fixAttrs(el) {
    if (!el.closest || !el.closest(SCOPE)) { return; }
    ["placeholder", "aria-label", "title"].forEach(function (a) {
      var v = el.getAttribute && el.getAttribute(a);
      if (v) { var sv = swedish(v); if (sv !== null && sv !== v) { el.setAttribute(a, sv); } }
    });
  }
  var DAYS = %(days)s;
  function fixDays(root) {
    // the calendar's header letters, only while they are the English Sunday-first row
    (root.querySelectorAll ? root.querySelectorAll('[role="grid"] thead tr') : []).forEach(
      function (tr) {
        var cells = Array.prototype.slice.call(tr.children);
        var now = cells.map(function (c) { return c.textContent.trim(); });
        if (now.join() === DAYS[0].join()) {
          cells.forEach(function (c, i) { c.textContent = DAYS[1][i]; });
        }
      });
  }
  function walk(root) {
    if (root.nodeType === 3) { fixNode(root); return; }
    if (root.nodeType !== 1) { return; }
    fixAttrs(root);
    fixDays(root.closest ? (root.closest('[role="grid"]') || root) : root);
    var it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    var n;
    while ((n = it.nextNode())) { if (n.nodeType === 3) { fixNode(n); } else { fixAttrs(n); } }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "characterData") { fixNode(r.target); }
      else if (r.type === "attributes") { fixAttrs(r.target); }
      else { r.addedNodes.forEach(walk); }
    });
  }).observe(document.body, {childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ["placeholder", "aria-label", "title"]});
  walk(document.body);
})();
</script>
"""


def script() -> str:
    """The translator script :func:`install` puts on the page (constant: no data in it)."""
    return _SCRIPT % {
        "texts": json.dumps(TEXTS, ensure_ascii=False),
        "patterns": json.dumps([list(p) for p in PATTERNS]),
        "scope": json.dumps(", ".join(SCOPES)),
        "days": json.dumps(CALENDAR_DAYS, ensure_ascii=False),
    }


def install() -> None:
    """Put the translator on the page (once per run; the script itself runs once per tab)."""
    st.html(script(), unsafe_allow_javascript=True)


def multiselect(container, label: str, *args, **kwargs):
    """``container.multiselect`` with a Swedish placeholder and no "Select all" row."""
    kwargs.setdefault("placeholder", CHOOSE_MANY)
    kwargs.setdefault("select_all", False)
    return container.multiselect(label, *args, **kwargs)


def date_input(container, label: str, *args, **kwargs):
    """``container.date_input`` with dates written the Swedish way (2018-03-16)."""
    kwargs.setdefault("format", "YYYY-MM-DD")
    return container.date_input(label, *args, **kwargs)


def limit_text(max_bytes: int | dict[str, int], types=None) -> str:
    """The upload limit in Swedish, from the guard's own numbers.

    Parameters
    ----------
    max_bytes : int or dict
        One limit, or limits per suffix (``geo.guards.MAX_BYTES``: ``{".csv": ...}``).
    types : sequence of str, optional
        The suffixes the uploader accepts (without the dot), for a per-suffix table.

    Examples
    --------
    >>> limit_text(5 * MB)
    'Högst 5 MB per fil.'
    >>> limit_text({".csv": 100 * MB, ".gpkg": 200 * MB}, ["csv", "gpkg"])
    'Högst 100 MB per fil (GPKG 200 MB).'
    """
    if isinstance(max_bytes, int):
        return f"Högst {_mb(max_bytes)} per fil."
    limits = {t: max_bytes.get("." + t.lower()) for t in (types or [])}
    limits = {t: v for t, v in limits.items() if v is not None}
    if not limits:
        raise ValueError(f"no limit among {sorted(max_bytes)} for the types {list(types or [])}")
    values = sorted(limits.values())
    common = max(set(values), key=lambda v: (values.count(v), -v))
    others = [f"{t.upper()} {_mb(v)}" for t, v in limits.items() if v != common]
    return f"Högst {_mb(common)} per fil" + (f" ({', '.join(others)})." if others else ".")


def _mb(n_bytes: int) -> str:
    value = n_bytes / MB
    return (f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")) + " MB"


def file_uploader(container, label: str, type, *, max_bytes: int | dict[str, int], **kwargs):
    """``container.file_uploader`` whose limit is the guard's, with the limit in Swedish.

    Streamlit refuses a file above ``max_upload_size`` before it reaches the page; set to
    the largest limit among ``type``, it never lets through what the guard would refuse for
    every format, and never refuses what the guard would take. The exact per-format limit
    follows in a caption.
    """
    if isinstance(max_bytes, int):
        largest = max_bytes
    else:
        largest = max(max_bytes["." + t.lower()] for t in type if "." + t.lower() in max_bytes)
    upload = container.file_uploader(
        label, type=type, max_upload_size=max(1, math.ceil(largest / MB)), **kwargs
    )
    if not isinstance(max_bytes, int) and len({max_bytes.get("." + t.lower()) for t in type}) > 1:
        # Streamlit's own line shows only the largest limit; the caption has them all
        container.caption(limit_text(max_bytes, type))
    return upload
