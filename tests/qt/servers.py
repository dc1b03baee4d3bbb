"""Loopback test servers for tests/qt: plain HTTP and HTTPS with a self-signed certificate.

Both run ``http.server`` in a daemon thread on 127.0.0.1, port 0 (the OS picks a free port),
and serve pages that tests register at run time with ``add``.
"""

from __future__ import annotations

import ssl
import struct
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl

from tests.certs import self_signed


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    hits: int = 0


@dataclass
class Site:
    """Pages served by one loopback server; ``url(path)`` gives their address."""

    scheme: str
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> QUrl:
        data = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.routes[path] = Route(data, content_type, headers)
        return self.url(path)

    def hits(self, path: str) -> int:
        with self.lock:
            return self.routes[path].hits

    def url(self, path: str = "/", host: str = "127.0.0.1") -> QUrl:
        return QUrl(f"{self.scheme}://{host}:{self.port}{path}")

    def route(self, path: str) -> Route | None:
        with self.lock:
            route = self.routes.get(path.split("?", 1)[0])
            if route is not None:
                route.hits += 1
            return route


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        route = self.server.site.route(self.path)
        if route is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in route.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site
        self.tls = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        # TLS handshake in the worker thread: a client that rejects our certificate (the
        # point of the HTTPS server) or never speaks must not block the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up mid-response (navigations, cancelled loads): not a test failure


def start(site: Site, tls: ssl.SSLContext | None = None) -> _Server:
    server = _Server(site, tls)
    site.port = server.server_address[1]
    threading.Thread(
        target=server.serve_forever, name=f"{site.scheme}-test-server", daemon=True
    ).start()
    return server


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 and *.test."""
    return self_signed(directory, dns_names=("*.test",))[0]


def png(size: int = 16, rgb: tuple[int, int, int] = (31, 122, 90)) -> bytes:
    """A solid-colour PNG (a favicon for test pages)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
