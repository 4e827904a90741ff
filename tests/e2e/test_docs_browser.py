"""/docs/ renders its operations in headless Chromium with every outside host unreachable.

The served process is the real `fundraising serve` (see test_served.py). Chromium resolves
nothing but 127.0.0.1, so rendered operations prove that Swagger UI's JS came from the
service; the service's access log proves the CSS did too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_served import Served, serving

OFFLINE_RULES = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def _apt_get(*arguments: str) -> str:
    done = subprocess.run(
        ["apt-get", *arguments],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return f"`apt-get {' '.join(arguments)}` said: {(done.stdout + done.stderr)[-1500:]}"


def _install_chromium() -> str | None:
    """Install Debian's chromium (refreshing the package lists if needed); why it failed."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "installing it needs root and apt-get"
    said = _apt_get("install", "-y", "chromium")
    if shutil.which("chromium") is None:
        _apt_get("update")
        said = _apt_get("install", "-y", "chromium")
    return None if shutil.which("chromium") else said


@pytest.fixture(scope="session")
def chromium() -> str:
    if shutil.which("chromium") is None:
        failure = _install_chromium()
        if failure is not None:
            pytest.skip(f"Debian's chromium is not installed and cannot be: {failure}")
    found = shutil.which("chromium")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("docs")) as running:
        yield running


class _Assets(HTMLParser):
    """The URLs a page loads: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value]


def test_the_docs_page_loads_only_local_assets(served: Served) -> None:
    page = httpx.get(f"{served.url}/docs/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(page.text)
    assert len(parser.urls) >= 3, parser.urls  # the bundle, the preset, the stylesheet
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for url in parser.urls:
        asset = httpx.get(f"{served.url}{url}", timeout=10)
        assert asset.status_code == 200, url
        assert kinds[Path(url).suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 0, url


@pytest.mark.timeout(900)  # the first run may install chromium
def test_swagger_ui_renders_the_operations_offline(
    served: Served, chromium: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--host-resolver-rules={OFFLINE_RULES}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{served.url}/docs/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "swagger-ui" in dom, dom[:2000]
    blocks = re.findall(r'class="opblock opblock-(get|post|patch|delete|put)\b', dom)
    assert len(blocks) >= 16, f"{len(blocks)} operations rendered:\n{dom[:3000]}"
    assert {"get", "post", "patch", "delete"} <= set(blocks)
    paths = set(re.findall(r'data-path="([^"]+)"', dom))
    assert any(path.rstrip("/") == "/api/v1/collects" for path in paths), paths
    assert any(path.rstrip("/") == "/api/v1/payments" for path in paths), paths
    assert "Unable to render this definition" not in dom  # what Swagger UI 4 says about 3.1

    # The bundle, the preset and the stylesheet came from the service (access lines name the
    # route, not the file).
    assets = re.findall(r"fundraising\.access: GET /docs/static/\{file_path\} 200 ", served.log())
    assert len(assets) >= 3, served.log()[-3000:]
