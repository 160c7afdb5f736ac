"""geo.assets: offline map files. npm packs local folders here, so no network is needed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import folium
import folium.plugins
import pytest

from geo import assets
from geo.assets import AssetPackage
from geo.cli import main

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def _local_package(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name.replace("/", "_")
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0"}))
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


@pytest.fixture
def packages(tmp_path):
    a = _local_package(
        tmp_path / "src",
        "fake-leaflet",
        {"dist/leaflet.js": "L=1;", "dist/images/a.png": "png", "dist/images/b.png": "png2"},
    )
    b = _local_package(tmp_path / "src", "@scope/fake-font", {"css/all.css": "x{}"})
    return (
        AssetPackage(
            str(a), "leaflet", {"dist/leaflet.js": "leaflet.js", "dist/images/": "images/"}
        ),
        AssetPackage(str(b), "font", {"css/all.css": "css/all.css"}),
    )


@needs_npm
def test_fetch_extracts_listed_files_and_is_idempotent(tmp_path, packages, monkeypatch):
    dest = tmp_path / "vendor"
    written = assets.fetch_assets(dest, packages=packages)
    assert sorted(written) == sorted(
        [
            "leaflet/leaflet.js",
            "leaflet/images/a.png",
            "leaflet/images/b.png",
            "font/css/all.css",
            "folium/leaflet_heat.min.js",
        ]
    )
    assert (dest / "leaflet/leaflet.js").read_text() == "L=1;"
    assert (dest / "folium/leaflet_heat.min.js").stat().st_size > 1000
    assert assets.assets_present(dest, packages=packages)

    # second call: the manifest matches, npm is not run at all
    def no_npm(*_a, **_k):
        raise AssertionError("npm must not run when the files are present")

    monkeypatch.setattr(subprocess, "run", no_npm)
    assert assets.fetch_assets(dest, packages=packages) == []


@needs_npm
def test_missing_file_in_package_is_reported(tmp_path, packages):
    bad = (AssetPackage(packages[0].spec, "leaflet", {"dist/nope.js": "nope.js"}),)
    with pytest.raises(RuntimeError, match=r"fake-leaflet.*has no dist/nope.js"):
        assets.fetch_assets(tmp_path / "v", packages=bad)


def test_manifest_for_other_packages_is_not_present(tmp_path, packages):
    dest = tmp_path / "v"
    dest.mkdir()
    (dest / assets.MANIFEST).write_text(json.dumps({"key": "old", "files": []}))
    assert not assets.assets_present(dest, packages=packages)


def test_deleted_file_makes_assets_absent(tmp_path, packages):
    dest = tmp_path / "v"
    (dest / "leaflet").mkdir(parents=True)
    (dest / "leaflet/leaflet.js").write_text("x")
    key = assets._manifest_key(tuple(packages))
    (dest / assets.MANIFEST).write_text(json.dumps({"key": key, "files": ["leaflet/leaflet.js"]}))
    assert assets.assets_present(dest, packages=packages)
    (dest / "leaflet/leaflet.js").unlink()
    assert not assets.assets_present(dest, packages=packages)


def test_missing_npm_is_a_clear_error(tmp_path, packages, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(RuntimeError, match="npm was not found: install it"):
        assets.fetch_assets(tmp_path / "v", packages=packages)


def test_use_local_assets_rewrites_every_class_and_restores():
    classes = [
        folium.Map,
        folium.plugins.HeatMap,
        folium.plugins.MarkerCluster,
        folium.plugins.FastMarkerCluster,
        folium.plugins.Draw,
    ]
    assets.use_local_assets("/base/")
    try:
        for cls in classes:
            urls = [u for _, u in cls.default_js + cls.default_css]
            assert urls, cls
            assert all(u.startswith("/base/") for u in urls), (cls, urls)
        # the two stylesheets without an npm package are dropped
        names = [n for n, _ in folium.Map.default_css]
        assert "glyphicons_css" not in names and "awesome_rotate_css" not in names
        # calling twice starts from folium's lists, not from the rewritten ones
        assets.use_local_assets("/other")
        assert folium.Map.default_js[0][1] == "/other/leaflet/leaflet.js"
    finally:
        assets.use_remote_assets()
    assert folium.plugins.Draw.default_js[0][1].startswith("https://cdnjs.cloudflare.com/")


def test_every_mapped_file_is_fetched():
    # URL_MAP may only point at files fetch_assets writes
    fetched = {f"{p.folder}/{target}" for p in assets.PACKAGES for target in p.files.values()}
    fetched |= set(assets.FOLIUM_FILES.values())
    targets = {t for t in assets.URL_MAP.values() if t is not None}
    assert targets <= fetched, targets - fetched


def test_real_vendor_folder_is_complete_when_fetched():
    root = Path(__file__).resolve().parents[1]
    dest = root / assets.DEFAULT_DEST
    if not (dest / assets.MANIFEST).exists():
        pytest.skip("static/vendor not fetched (run `lagesbild fetch-assets`)")
    assert assets.assets_present(dest)
    for target in filter(None, assets.URL_MAP.values()):
        assert (dest / target).is_file(), target


@needs_npm
def test_cli_fetch_assets_quiet(tmp_path, capsys):
    root = Path(__file__).resolve().parents[1]
    if not assets.assets_present(root / assets.DEFAULT_DEST):
        pytest.skip("needs the real static/vendor to copy from")
    dest = tmp_path / "vendor"
    shutil.copytree(root / assets.DEFAULT_DEST, dest)
    assert main(["fetch-assets", "--quiet", "--dest", str(dest)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["fetch-assets", "--dest", str(dest)]) == 0
    assert "already holds" in capsys.readouterr().out
