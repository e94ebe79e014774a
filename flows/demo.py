"""The demo: a local news site on 127.0.0.1 with an RSS feed, ingested by the real flow.

The corpus in ``demo_corpus/`` holds a real article (the user's sample), four articles written
for broadsheet, and pages that must be rejected: an empty page, a PDF, and a feed link that
answers 404. ``broadsheet demo`` serves it, runs ``ingest`` against the feed and stops the server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "demo_corpus"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
                 ".xml": "application/rss+xml; charset=utf-8"}


class _Handler(BaseHTTPRequestHandler):
    server: _DemoServer

    def do_GET(self) -> None:
        name = self.path.split("?", 1)[0].lstrip("/")
        if name == "feed.xml":
            body = self.server.feed
        elif "/" not in name and (CORPUS_DIR / name).is_file() and not name.endswith(".template"):
            body = (CORPUS_DIR / name).read_bytes()
        else:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep the demo's output clean
        return


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    feed: bytes = b""


@contextmanager
def demo_site() -> Iterator[str]:
    """Serve the demo corpus on an ephemeral 127.0.0.1 port; yields the feed's URL."""
    server = _DemoServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    template = (CORPUS_DIR / "feed.xml.template").read_text(encoding="utf-8")
    server.feed = template.format(base=base).encode("utf-8")
    thread = threading.Thread(target=server.serve_forever, name="broadsheet-demo-site", daemon=True)
    thread.start()
    try:
        yield f"{base}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()
