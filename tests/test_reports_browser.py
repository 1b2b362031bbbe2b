"""The HTML reports in a real browser (headless Chromium): they render, and hostile text stays text."""

from __future__ import annotations

import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hrdiscourse.reports import safe_name, write_reports

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE_ID = "../../evil/<script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: run 'make browser' to install it"
    ),
]

# The network is closed: these flags keep Chromium from trying to reach it.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory, report_results, report_manifest) -> Path:
    out = tmp_path_factory.mktemp("browser") / "run"
    write_reports(out, report_results, report_manifest)
    return out


def _pages(out: Path) -> dict[str, Path]:
    return {"index": out / "index.html", "hostile": out / "docs" / f"{safe_name(HOSTILE_ID)}.html"}


@pytest.mark.parametrize("page", ["index", "hostile"])
def test_reports_browser_screenshot(page: str, browser_run: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    shot = tmp_path / f"{page}.png"
    _chromium(f"--screenshot={shot}", _pages(browser_run)[page].as_uri())
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    colours = {tuple(px) for px in pixels[::10, ::10, :3].reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 20, "the screenshot is (nearly) blank"
    assert pixels[:, :, :3].std() > 0.05


@pytest.mark.parametrize("page", ["index", "hostile"])
def test_reports_browser_no_live_script(page: str, browser_run: Path) -> None:
    dom = _Dom()
    dom.feed(_chromium("--dump-dom", _pages(browser_run)[page].as_uri()).stdout)
    assert dom.tags, "Chromium returned no DOM"
    assert not [t for t, _ in dom.tags if t in ("script", "iframe", "object", "embed")]
    assert not [(t, a) for t, attrs in dom.tags for a in attrs if a.startswith("on")]
    hrefs = [attrs.get("href") or "" for t, attrs in dom.tags if t == "a"]
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
    if page == "hostile":
        text = "".join(dom.text)
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text


@pytest.mark.parametrize("chart", ["labels", "labels_by_year", "cooccurrence"])
def test_reports_browser_chart_images(chart: str, browser_run: Path) -> None:
    dom = _Dom()
    dom.feed(_chromium("--dump-dom", _pages(browser_run)["index"].as_uri()).stdout)
    srcs = [attrs.get("src") for t, attrs in dom.tags if t == "img"]
    assert f"charts/{chart}.png" in srcs
    assert (browser_run / "charts" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
