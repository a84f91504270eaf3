"""`storydiff demo-server`: serve the bundled fixture outlets on 127.0.0.1 to try scheduled runs offline.

The demo site (`compare/data/demo_site/`) has an RSS feed, an Atom feed and single article pages for
three invented outlets covering three stories. `{{BASE}}` in a served file becomes the server's own
URL, so feeds link to pages on whatever port it runs. Responses carry ETag and Last-Modified and
answer conditional requests with 304, like a real news site. A few paths simulate faults, which the
test suite uses with its own fixture folders:

    /_status/<code>                  answer with that HTTP status
    /_slow/<seconds>/<path>          wait, then serve <path>
    /_redirect/<n>/<path>            redirect n times, then serve <path>
    /_bytes/<n>                      n bytes of application/octet-stream
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
from contextlib import suppress
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_PORT = 8765
TEXT_TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
              ".xml": "application/xml; charset=utf-8", ".rss": "application/rss+xml; charset=utf-8",
              ".atom": "application/atom+xml; charset=utf-8", ".txt": "text/plain; charset=utf-8"}


def demo_site() -> Path:
    """The bundled demo site folder (inside the installed package)."""
    return Path(str(resources.files("compare.data").joinpath("demo_site")))


class FixtureHandler(BaseHTTPRequestHandler):
    """Serves files under `server.root`; see the module docstring for the fault paths."""

    server: FixtureServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        self.server.record(path, self.headers)
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_status"] and len(parts) == 2 and parts[1].isdigit():
            self._send(int(parts[1]), b"status page\n", "text/plain")
        elif parts[:1] == ["_slow"] and len(parts) >= 3:
            time.sleep(float(parts[1]))
            self._serve_file("/".join(parts[2:]))
        elif parts[:1] == ["_redirect"] and len(parts) >= 3 and parts[1].isdigit():
            left = int(parts[1]) - 1
            rest = "/".join(parts[2:])
            target = f"/_redirect/{left}/{rest}" if left > 0 else f"/{rest}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts[:1] == ["_bytes"] and len(parts) == 2 and parts[1].isdigit():
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * int(parts[1]), "application/octet-stream")
        else:
            self._serve_file("/".join(parts) or "index.html")

    def _serve_file(self, relative: str) -> None:
        root = self.server.root.resolve()
        target = (root / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if root not in target.parents or not target.is_file():
            self._send(404, b"not found\n", "text/plain")
            return
        data = target.read_bytes()
        ctype = TEXT_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] \
            or "application/octet-stream"
        if ctype.startswith(("text/", "application/xml", "application/rss", "application/atom")):
            data = data.replace(b"{{BASE}}", self.server.base_url.encode())
        if target.suffix.lower() == ".nocharset":  # a page whose charset the client must detect
            ctype = "text/html"
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        modified = formatdate(target.stat().st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, data, ctype, {"ETag": etag, "Last-Modified": modified})

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            self.wfile.write(body)


class FixtureServer(ThreadingHTTPServer):
    """A threaded HTTP server over a folder, remembering the requests it saw (for tests)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        super().__init__((host, port), FixtureHandler)
        self.root = Path(root)
        self.verbose = verbose
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def record(self, path: str, headers: Any) -> None:
        with self._lock:
            self.requests.append({"path": path, "conditional": bool(headers.get("If-None-Match")
                                                                     or headers.get("If-Modified-Since")),
                                  "user_agent": headers.get("User-Agent", "")})


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0) -> FixtureServer:
    """Start a fixture server in a daemon thread; call `.shutdown()` when done."""
    server = FixtureServer(root, host, port)
    threading.Thread(target=server.serve_forever, name="fixture-server", daemon=True).start()
    return server
