"""Offline map assets: Leaflet, its plugins, jQuery, Bootstrap and Font Awesome.

Folium (and streamlit-folium, which loads whatever a map's classes list in ``default_js`` and
``default_css``) fetch these from public CDNs. On a closed police network, or in CI, one failed
load leaves the map blank. This module owns the two halves of the fix:

- :func:`fetch_assets` takes the files from the npm registry with ``npm pack`` (run once, at
  setup) and unpacks the few distribution files the map needs into ``static/vendor/``, which
  Streamlit serves at ``/app/static/vendor`` (``enableStaticServing`` in
  ``.streamlit/config.toml``). ``leaflet_heat.min.js`` ships inside the folium wheel and is
  copied from there. Third-party code is never committed: ``static/vendor/`` is gitignored.
- :func:`use_local_assets` points every folium class that references one of those CDN URLs at
  the local copies, before maps are built.

Two stylesheets folium's ``Map`` lists have no npm package and are dropped in local mode:
Bootstrap 3's ``bootstrap-glyphicons.css`` (only needed for ``prefix="glyphicon"`` icons) and
folium's ``leaflet.awesome.rotate.min.css`` (only for rotated awesome-marker icons). Lägesbild
uses neither.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import folium
import folium.elements

#: Where ``./dev`` and the CLI put the files, relative to the repository root.
DEFAULT_DEST = Path("static") / "vendor"

#: URL prefix under which Streamlit serves ``static/vendor`` (``enableStaticServing``).
DEFAULT_BASE_URL = "/app/static/vendor"

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class AssetPackage:
    """One npm package and the files taken from it.

    Parameters
    ----------
    spec : str
        What ``npm pack`` receives: ``name@version``, or a local folder or tarball.
    folder : str
        Sub-folder of the destination the files go to.
    files : dict[str, str]
        Path inside the package (below ``package/``) -> path below ``folder``. A path ending in
        ``/`` copies that whole directory.
    """

    spec: str
    folder: str
    files: dict[str, str] = field(default_factory=dict)


#: The npm packages the map needs, with the files taken from each.
PACKAGES: tuple[AssetPackage, ...] = (
    AssetPackage(
        "leaflet@1.9.3",
        "leaflet",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/": "images/",
        },
    ),
    AssetPackage(
        "leaflet.markercluster@1.1.0",
        "markercluster",
        {
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
        },
    ),
    AssetPackage(
        "leaflet-draw@1.0.2",
        "leaflet-draw",
        {
            "dist/leaflet.draw.js": "leaflet.draw.js",
            "dist/leaflet.draw.css": "leaflet.draw.css",
            "dist/images/": "images/",
        },
    ),
    AssetPackage("jquery@3.7.1", "jquery", {"dist/jquery.min.js": "jquery.min.js"}),
    AssetPackage(
        "bootstrap@5.2.2",
        "bootstrap",
        {
            "dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
            "dist/css/bootstrap.min.css": "bootstrap.min.css",
        },
    ),
    AssetPackage(
        "leaflet.awesome-markers@2.0.5",
        "awesome-markers",
        {
            "dist/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
            "dist/images/": "images/",
        },
    ),
    AssetPackage("leaflet.sync@0.2.4", "leaflet-sync", {"L.Map.Sync.js": "L.Map.Sync.js"}),
    AssetPackage(
        "@fortawesome/fontawesome-free@6.2.0",
        "fontawesome",
        {"css/all.min.css": "css/all.min.css", "webfonts/": "webfonts/"},
    ),
)

#: Files copied from the installed folium package: its templates folder -> path below dest.
FOLIUM_FILES = {"leaflet_heat.min.js": "folium/leaflet_heat.min.js"}

#: CDN URL folium references -> path below the destination, or None to drop it (see module doc).
URL_MAP: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "awesome-markers/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "folium/leaflet_heat.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "markercluster/MarkerCluster.Default.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": (
        "leaflet-draw/leaflet.draw.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": (
        "leaflet-draw/leaflet.draw.css"
    ),
    # folium's DualMap (the before/after maps side by side)
    "https://cdn.jsdelivr.net/gh/jieter/Leaflet.Sync/L.Map.Sync.min.js": (
        "leaflet-sync/L.Map.Sync.js"
    ),
}

# The classes' own lists, saved on the first switch so use_remote_assets() can restore them.
_ORIGINAL: dict[type, tuple[list, list]] = {}


def _manifest_key(packages: tuple[AssetPackage, ...]) -> str:
    wanted = [[p.spec, p.folder, sorted(p.files.items())] for p in packages]
    wanted.append(["folium", folium.__version__, sorted(FOLIUM_FILES.items())])
    return hashlib.sha256(json.dumps(wanted).encode()).hexdigest()


def assets_present(dest: str | Path = DEFAULT_DEST, *, packages=PACKAGES) -> bool:
    """Whether ``dest`` holds a complete set of files from an earlier :func:`fetch_assets`.

    Parameters
    ----------
    dest : str or Path, default ``static/vendor``
        The folder :func:`fetch_assets` wrote to.
    packages : tuple of AssetPackage, default :data:`PACKAGES`
        The package set the manifest must have been written for.

    Returns
    -------
    bool
        True when the manifest matches ``packages`` and every file it lists exists.

    Examples
    --------
    >>> assets_present("/nonexistent/folder")
    False
    """
    path = Path(dest) / MANIFEST
    if not path.is_file():
        return False
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("key") != _manifest_key(tuple(packages)):
        return False
    return all((Path(dest) / f).is_file() for f in manifest.get("files", []))


def _npm_pack(specs: list[str], workdir: Path) -> list[Path]:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm was not found: install it (Debian: apt-get install npm) so the map's "
            "Leaflet files can be fetched from the npm registry"
        )
    proc = subprocess.run(
        [npm, "pack", "--silent", *specs],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"npm pack {' '.join(specs)} failed: {proc.stderr.strip()[-500:]}")
    return sorted(workdir.glob("*.tgz"))


def _extract(tgz: Path, package: AssetPackage, dest: Path) -> list[str]:
    """Copy ``package.files`` out of one npm tarball; return the written paths below dest."""
    written: list[str] = []
    with tarfile.open(tgz, "r:gz") as tar:
        members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}
        for src, target in package.files.items():
            if src.endswith("/"):
                pairs = [(n, target + n[len(src) :]) for n in members if n.startswith(src)]
            else:
                pairs = [(src, target)]
            if not pairs or any(n not in members for n, _ in pairs):
                raise RuntimeError(f"{package.spec}: the package has no {src}")
            for name, rel in pairs:
                out = dest / package.folder / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(members[name]) as fh:
                    out.write_bytes(fh.read())
                written.append(f"{package.folder}/{rel}")
    return written


def _package_name(tgz: Path) -> str:
    with tarfile.open(tgz, "r:gz") as tar:
        with tar.extractfile("package/package.json") as fh:
            return json.load(fh)["name"]


def fetch_assets(
    dest: str | Path = DEFAULT_DEST, *, packages=PACKAGES, force: bool = False
) -> list[str]:
    """Fetch the map's scripts and stylesheets from the npm registry into ``dest``.

    Runs ``npm pack`` for every package in a temporary folder, copies the listed files into
    ``dest/<folder>/``, copies folium's own ``leaflet_heat.min.js``, and writes
    ``dest/manifest.json``. Idempotent: returns at once when the manifest already matches.

    Parameters
    ----------
    dest : str or Path, default ``static/vendor``
        Target folder (created when missing).
    packages : tuple of AssetPackage, default :data:`PACKAGES`
        What to fetch; a spec may also be a local folder, which ``npm pack`` packs offline.
    force : bool, default False
        Fetch even when the manifest says the files are there.

    Returns
    -------
    list of str
        Paths written below ``dest``; empty when nothing had to be done.

    Raises
    ------
    RuntimeError
        When npm is missing, ``npm pack`` fails, or a package lacks a listed file.

    Examples
    --------
    >>> fetch_assets("static/vendor")  # doctest: +SKIP
    ['leaflet/leaflet.js', 'leaflet/leaflet.css', ...]
    """
    dest = Path(dest)
    packages = tuple(packages)
    if not force and assets_present(dest, packages=packages):
        return []
    dest.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lagesbild-npm-") as tmp:
        tarballs = _npm_pack([p.spec for p in packages], Path(tmp))
        by_name = {_package_name(t): t for t in tarballs}
        for package in packages:
            name = _spec_name(package.spec, by_name)
            written += _extract(by_name[name], package, dest)
    templates = Path(folium.__file__).parent / "templates"
    for src, rel in FOLIUM_FILES.items():
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates / src, out)
        written.append(rel)
    manifest = {
        "key": _manifest_key(packages),
        "packages": [p.spec for p in packages],
        "files": written,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return written


def _spec_name(spec: str, by_name: dict[str, Path]) -> str:
    """The npm package name a spec produced: ``@scope/name@1.0`` -> ``@scope/name``."""
    local = Path(spec)
    if local.is_dir():
        return json.loads((local / "package.json").read_text(encoding="utf-8"))["name"]
    name = spec.rsplit("@", 1)[0] if spec.rfind("@") > 0 else spec
    if name not in by_name:
        raise RuntimeError(f"npm pack gave no tarball for {spec} (got {sorted(by_name)})")
    return name


def _asset_classes() -> list[type]:
    """Every loaded folium class that lists scripts or stylesheets of its own."""
    import folium.plugins  # noqa: F401  (registers the plugin classes as subclasses)

    seen: list[type] = []
    stack = [folium.elements.JSCSSMixin]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return [c for c in seen if "default_js" in vars(c) or "default_css" in vars(c)]


def _local_list(entries: list, base_url: str) -> list:
    out = []
    for name, url in entries:
        if url in URL_MAP:
            if URL_MAP[url] is not None:
                out.append((name, f"{base_url}/{URL_MAP[url]}"))
        else:
            out.append((name, url))
    return out


def use_local_assets(base_url: str = DEFAULT_BASE_URL) -> None:
    """Point folium's classes at the local copies of their scripts and stylesheets.

    Rewrites the class attributes ``default_js`` / ``default_css`` of ``folium.Map`` and every
    plugin class (``HeatMap``, ``MarkerCluster``, ``FastMarkerCluster``, ``Draw``, ...) whose
    URLs appear in :data:`URL_MAP`. Call it before maps are built; calling it again (with any
    ``base_url``) starts from folium's original lists. A URL not in the map stays as it is.

    Parameters
    ----------
    base_url : str, default ``/app/static/vendor``
        Where the browser finds the folder :func:`fetch_assets` wrote; Streamlit serves
        ``./static`` at ``/app/static``.

    Examples
    --------
    >>> use_local_assets("/app/static/vendor")
    >>> folium.Map.default_js[0]
    ('leaflet', '/app/static/vendor/leaflet/leaflet.js')
    >>> use_remote_assets()
    >>> folium.Map.default_js[0][1].startswith("https://")
    True
    """
    base_url = base_url.rstrip("/")
    for cls in _asset_classes():
        if cls not in _ORIGINAL:
            _ORIGINAL[cls] = (
                list(vars(cls).get("default_js", [])),
                list(vars(cls).get("default_css", [])),
            )
        js, css = _ORIGINAL[cls]
        if "default_js" in vars(cls):
            cls.default_js = _local_list(js, base_url)
        if "default_css" in vars(cls):
            cls.default_css = _local_list(css, base_url)


def use_remote_assets() -> None:
    """Restore folium's own CDN URLs (undo :func:`use_local_assets`).

    Examples
    --------
    >>> use_remote_assets()
    >>> folium.Map.default_css[0][1]
    'https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css'
    """
    for cls, (js, css) in _ORIGINAL.items():
        if "default_js" in vars(cls):
            cls.default_js = list(js)
        if "default_css" in vars(cls):
            cls.default_css = list(css)
