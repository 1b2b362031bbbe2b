"""``hrdiscourse watch``: URL fetching (against a local http.server), skipping known items, reports."""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrdiscourse.cli import app
from hrdiscourse.errors import IngestError
from hrdiscourse.store import Store
from hrdiscourse.watch import _suffix_for, fetch, is_url, watch

REPO = Path(__file__).resolve().parents[1]
FEED = REPO / "corpora" / "sample" / "feeds" / "prairie-ledger-local-news.rss"
XXE = REPO / "tests" / "data" / "ingest" / "feed_xxe.xml"
FOLDER = REPO / "corpora" / "sample" / "endnote-xiii"
SLOW_S = 2.0


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/slow":
            time.sleep(SLOW_S)
        status, media, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """An http.server on 127.0.0.1 (random port) serving feeds; shut down after the module."""
    _Handler.routes = {
        "/feed": (200, "application/rss+xml", FEED.read_bytes()),
        "/feed.rss": (200, "text/plain", FEED.read_bytes()),
        "/xxe": (200, "application/xml", XXE.read_bytes()),
        "/big": (200, "application/xml", b"<rss>" + b" " * 5000 + b"</rss>"),
        "/slow": (200, "application/xml", FEED.read_bytes()),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("path", ["/feed", "/feed.rss"])
def test_watch_fetch_reads_a_feed(server: str, path: str) -> None:
    body, media = fetch(server + path, timeout=5)
    assert body == FEED.read_bytes()
    assert media in ("application/rss+xml", "text/plain")


@pytest.mark.parametrize(
    ("path", "kwargs", "message"),
    [
        ("/missing", {}, "HTTP 404"),
        ("/big", {"max_bytes": 1000}, "larger than 0.001 MB"),
        ("/slow", {"timeout": 0.3}, "no complete answer within 0.3 s"),
    ],
)
def test_watch_fetch_errors_are_ingest_errors(server: str, path: str, kwargs: dict, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        fetch(server + path, **kwargs)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "/tmp/feed.xml"])
def test_watch_fetch_refuses_other_schemes(url: str) -> None:
    assert not is_url(url)
    with pytest.raises(IngestError, match="only http:// and https:// URLs"):
        fetch(url)


@pytest.mark.parametrize(
    ("url", "media", "body", "suffix"),
    [
        ("https://x.org/news.atom", "text/html", b"", ".atom"),
        ("https://x.org/feed", "application/rss+xml", b"", ".rss"),
        ("https://x.org/feed", "", b"<?xml version='1.0'?><rss/>", ".xml"),
        ("https://x.org/page", "", b"<!DOCTYPE html><html></html>", ".html"),
        ("https://x.org/doc", "application/octet-stream", b"%PDF-1.7", ".pdf"),
    ],
)
def test_watch_suffix_follows_url_then_media_type(url: str, media: str, body: bytes, suffix: str) -> None:
    assert _suffix_for(url, media, body) == suffix


@pytest.fixture(scope="module")
def watched(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two watch runs over the same sources (a URL feed, a 404, an unsafe feed and a folder)."""
    tmp = tmp_path_factory.mktemp("watch")
    sources = [server + "/feed", server + "/missing", server + "/xxe", str(FOLDER)]
    store = tmp / "seen.duckdb"
    first = watch(sources, store=store, out_dir=tmp / "first", mode="fast")
    first_new = (tmp / "first" / "new.jsonl").read_text(encoding="utf-8")
    second = watch(sources, store=store, out_dir=tmp / "second", mode="fast")
    return {"tmp": tmp, "first": first, "second": second, "first_new": first_new, "store": store}


def _items(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("run", ["first", "second"])
def test_watch_accounts_for_every_item(watched: dict, run: str) -> None:
    result = watched[run]
    assert result.inputs == result.new + result.known + result.duplicates
    assert result.errors == 2  # the 404 and the unsafe feed
    errors = _items((watched["tmp"] / run / "errors.jsonl").read_text(encoding="utf-8"))
    assert [e["source"].rsplit("/", 1)[-1] for e in errors] == ["missing", "xxe"]


@pytest.mark.slow
@pytest.mark.parametrize("run", ["first"])
def test_watch_new_jsonl_holds_exactly_the_new_items(watched: dict, run: str) -> None:
    items = _items(watched["first_new"])
    assert len(items) == watched["first"].new > 0
    assert any(i["source"].startswith("http://127.0.0.1") and ":item " in i["source"] for i in items)
    assert any(i["source"].startswith(str(FOLDER)) for i in items)
    with Store(watched["store"], read_only=True) as store:
        stored = store.table("documents", run_id=watched["first"].run_id)
    assert sorted(stored["doc_id"]) == sorted(i["doc_id"] for i in items)


@pytest.mark.slow
@pytest.mark.parametrize("run", ["second"])
def test_watch_skips_items_already_in_the_store(watched: dict, run: str) -> None:
    assert watched[run].new == 0
    assert watched[run].known == watched["first"].new
    assert (watched["tmp"] / run / "new.jsonl").read_text(encoding="utf-8") == ""


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["whats-new.md", "whats-new.html"])
def test_watch_report_lists_coopted_first_with_endnotes(watched: dict, fmt: str) -> None:
    items = _items(watched["first_new"])
    coopted = [i for i in items if i["label"] == "coopted"]
    assert coopted, "the sample feed and folder hold co-opted items"
    report = (watched["tmp"] / "first" / fmt).read_text(encoding="utf-8")
    shown = html.escape if fmt.endswith(".html") else str
    assert all(report.find(shown(str(i["title"]))) >= 0 for i in items if i["label"] != "none")
    sections = ("Co-present", "Extension", "Aligned", "Critical", "Opposed", "No harm")
    others = [p for p in (report.find(t) for t in sections) if p >= 0]
    assert others and 0 <= report.find("Co-opted") < min(others)
    assert report.count("See e.g.") >= len(coopted)
    assert "<script" not in report.lower()


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--mode", "fast"]])
def test_cli_watch_exits_3_when_a_source_fails(server: str, tmp_path: Path, extra: list[str]) -> None:
    args = ["watch", server + "/feed", server + "/missing", "--store", str(tmp_path / "s.duckdb")]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o"), *extra])
    assert result.exit_code == 3, result.output
    assert "1 unreadable" in result.stdout
    assert "errors.jsonl" in result.stderr
