# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A registry stand-in on 127.0.0.1 for ``docker login``: the /v2/ endpoint and Basic auth only.

``docker login`` asks the engine to log in; the engine pings ``/v2/`` and, answered 401 with
a Basic challenge, asks again with ``Authorization: Basic base64(user:password)``. This server
keeps the exact bytes of every ``user:password`` it receives, so a test can compare them with
the password given to the exec, byte for byte (a UTF-8 BOM or a code page's mangling would
show there), and answers 200 only to the expected ones.

The engine treats 127.0.0.0/8 as an insecure registry: it tries HTTPS first (this server
closes a connection that starts with a TLS handshake record) and then plain HTTP. Pure standard library; it runs
on Linux too (test_build_helpers.py).
"""

from __future__ import annotations

import base64
import binascii
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BasicAuthRegistry:
    def __init__(self, username: str, password: str) -> None:
        self.expected = ("%s:%s" % (username, password)).encode("utf-8")
        self.received: list[bytes] = []
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def handle(self) -> None:
                try:
                    first = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return
                if first == b"\x16":  # a TLS handshake record: no TLS here, the engine falls back to HTTP
                    try:
                        self.connection.recv(65536)  # read the ClientHello, then close
                    except OSError:
                        pass
                    return
                super().handle()

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                registry.requests.append("%s %s" % (self.command, self.path))
                header = self.headers.get("Authorization") or ""
                granted = False
                if header[:6].lower() == "basic ":
                    try:
                        credentials = base64.b64decode(header[6:].strip(), validate=True)
                    except (binascii.Error, ValueError):
                        credentials = b""
                    registry.received.append(credentials)
                    granted = credentials == registry.expected
                if not self.path.startswith("/v2/"):
                    self._send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
                elif granted:
                    self._send(200, b"{}")
                else:
                    self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                               {"WWW-Authenticate": 'Basic realm="wincontainers.images windows suite"'})

            do_HEAD = do_GET

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="basic-auth-registry", daemon=True)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: what docker login is given, and the key it stores."""
        return "127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self) -> BasicAuthRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
