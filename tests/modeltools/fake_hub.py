"""A local HTTP server that answers the few Hugging Face Hub routes ``snapshot_download`` uses."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Repositories as ``{repo_id: {filename: bytes}}``, and a log of the requested paths."""

    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.requests: list[str] = []
        self.url = ""


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    tree_route = re.compile(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)$")
    info_route = re.compile(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?$")
    file_route = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _route(self) -> None:
            path = self.path.split("?", 1)[0]
            hub.requests.append(f"{self.command} {path}")
            if match := tree_route.match(path):
                files = hub.repos.get(match.group(1), {})
                tree = [
                    {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                    for name, data in sorted(files.items())
                ]
                self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"})
            elif match := info_route.match(path):
                files = hub.repos.get(match.group(1))
                if files is None:
                    self._send(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
                    return
                body = {
                    "id": match.group(1),
                    "modelId": match.group(1),
                    "sha": COMMIT,
                    "siblings": [{"rfilename": name} for name in sorted(files)],
                }
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
            elif match := file_route.match(path):
                files = hub.repos.get(match.group(1), {})
                data = files.get(match.group(3))
                if data is None:
                    self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"})
                    return
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
                self._send(200, data, headers)
            else:
                self._send(404, b"unknown route")

        do_GET = _route  # noqa: N815 - http.server's naming
        do_HEAD = _route  # noqa: N815

    return Handler


@contextmanager
def serve(repos: dict[str, dict[str, bytes]]) -> Iterator[FakeHub]:
    """Run a fake hub on a free local port for the duration of the block."""
    hub = FakeHub(repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
