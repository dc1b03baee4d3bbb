"""The bundled demo sites: web-monetized pages on 127.0.0.1, each with its own STREAM receiver.

* ``blog`` — an article that streams money continuously while you read it. It is monetized as
  today's web does it: ``<link rel="monetization" href="<wallet address>">``, a wallet address
  of the sandbox's Open Payments server (:mod:`wallet.sandbox.op_server`, https on loopback with
  the sandbox's own CA in :attr:`DemoSites.ca_file`), whose incoming payments' money reaches
  the blog's receiver.
* ``echo`` — a page that also sends data over the stream; its receiver answers every message,
  so data flows both ways. It uses Web Monetization draft 4 (``window.WebMonetization``).

Each site is its own origin (its own port), has an account on the sandbox network, serves SPSP
at ``/.well-known/pay`` and pushes what its receiver got to the page live over Server-Sent
Events (``/events``), so the page shows money arriving as it arrives. With
:meth:`DemoSites.follow_statuses` the same stream carries what Trickle tells the user about the
site (its state's label and explanation, :mod:`wallet.site_state`): the page's status line says
what the toolbar says — "Paused", "Day cap reached", ... — never "Streaming" while nothing flows.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from aiohttp import web

from wallet.net.link import Link
from wallet.net.spsp import add_spsp_routes
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_server import StreamServer
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_ledger import ReceiverBackend, StreamServerBackend
from wallet.sandbox.op_server import OpenPaymentsSandbox, serve_open_payments
from wallet.sandbox.tls import ServedCertificate, certificate_der, sandbox_certificate
from wallet.site_state import Shown, StatusBoard

__all__ = ["DemoSite", "DemoSites", "start_demo_sites"]

_SITES = {
    "blog": "The Slow Web — a monetized blog",
    "echo": "Echo — money and data both ways",
}
_ASSETS = {"demo.js": "application/javascript", "demo.css": "text/css"}


def _resource(name: str) -> str:
    return (resources.files("resources") / "demo" / name).read_text(encoding="utf-8")


@dataclass
class DemoSite:
    """One demo site and what its receiver has got so far."""

    key: str
    title: str
    server: StreamServer
    url: str = ""
    wallet_address: str = ""
    received: int = 0
    connections: int = 0
    messages: int = 0
    status: Shown | None = None  # what Trickle tells the user about this site
    _listeners: set[asyncio.Queue[str]] = field(default_factory=set)

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def snapshot(self) -> dict[str, object]:
        status = self.status
        return {
            "received": str(self.received),
            "assetCode": self.server.asset_code,
            "assetScale": self.server.asset_scale,
            "connections": self.connections,
            "messages": self.messages,
            "status": (
                {
                    "cause": status.cause.value,
                    "label": status.words.label,
                    "explanation": status.words.explanation,
                }
                if status is not None
                else None
            ),
        }

    def set_status(self, status: Shown | None) -> None:
        """Trickle's words for this site changed (on the site's loop)."""
        if status != self.status:
            self.status = status
            self._publish()

    def _publish(self) -> None:
        message = json.dumps(self.snapshot())
        for queue in self._listeners:
            if queue.qsize() < 100:
                queue.put_nowait(message)

    def on_connection(self, conn: IlpConnection) -> None:
        self.connections += 1
        self._publish()

        def on_stream(stream: IlpStream) -> None:
            stream.on("money", self._on_money)
            if self.key == "echo":
                stream.on("data", lambda data: self._on_data(stream, data))

        conn.on("stream", on_stream)

    def _on_money(self, amount: int) -> None:
        self.received += amount
        self._publish()

    def _on_data(self, stream: IlpStream, data: bytes) -> None:
        self.messages += 1
        text = data.decode("utf-8", "replace")[:200]
        reply = f"echo #{self.messages}: {text[::-1]} (received {self.received} so far)"
        if stream.is_open():
            stream.send(reply.encode())
        self._publish()

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            await response.write(f"data: {json.dumps(self.snapshot())}\n\n".encode())
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                while not queue.empty():  # coalesce bursts: only the latest totals matter
                    message = queue.get_nowait()
                await response.write(f"data: {message}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._listeners.discard(queue)
        return response

    def app(self) -> web.Application:
        page = (
            _resource(f"{self.key}.html")
            .replace("{{title}}", self.title)
            .replace("{{wallet_address}}", self.wallet_address)
        )

        async def index(_: web.Request) -> web.Response:
            return web.Response(text=page, content_type="text/html")

        async def asset(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name not in _ASSETS:
                raise web.HTTPNotFound()
            return web.Response(text=_resource(name), content_type=_ASSETS[name])

        async def stats(_: web.Request) -> web.Response:
            return web.json_response(self.snapshot())

        app = web.Application()
        app.router.add_get("/", index)
        app.router.add_get("/events", self.events)
        app.router.add_get("/stats", stats)
        app.router.add_get("/static/{name}", asset)
        add_spsp_routes(app, self.server.spsp_credentials, ("/.well-known/pay",))
        return app


@dataclass
class DemoSites:
    """The running demo sites and the sandbox's Open Payments server; ``close()`` stops them.

    ``ca_file``: the certificate (its own CA) an Open Payments client must trust to fetch the
    sandbox's wallet addresses (``https://127.0.0.1:<port>/...``)."""

    sites: dict[str, DemoSite]
    _runners: list[web.AppRunner]
    open_payments: OpenPaymentsSandbox | None = None
    ca_file: Path | None = None
    _tls_dir: Path | None = None
    user_wallet: str | None = None
    """A funded wallet address of the sandbox (play money) that the user can connect as
    their own Open Payments wallet; its key page: ``open_payments.keys_page("you")``."""
    _unfollow: Callable[[], None] | None = None
    _certificate: bytes = b""

    def url(self, key: str) -> str:
        return self.sites[key].url

    def follow_statuses(self, board: StatusBoard, loop: asyncio.AbstractEventLoop) -> None:
        """Show each site's words from ``board`` on its page (``loop``: the sites' loop)."""
        by_origin = {site.origin: site for site in self.sites.values()}

        def changed(origin: str) -> None:  # the publisher's thread
            site = by_origin.get(origin)
            if site is not None and not loop.is_closed():
                loop.call_soon_threadsafe(site.set_status, board.get(origin))

        self._unfollow = board.subscribe(changed)
        for origin, site in by_origin.items():
            site.set_status(board.get(origin))

    async def close(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
        if self.open_payments is not None:
            await self.open_payments.close()
        for site in self.sites.values():
            await site.server.aclose()
        for runner in self._runners:
            await runner.cleanup()  # shuts the site down (SSE streams end) and frees the port
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)

    @property
    def user_key_page(self) -> str | None:
        """Where the user adds a client's key to their sandbox wallet (an HTML page)."""
        if self.open_payments is None or self.user_wallet is None:
            return None
        return self.open_payments.keys_page(USER_WALLET)

    def served_certificates(self) -> tuple[ServedCertificate, ...]:
        """Each https origin of the sandbox and the certificate it shows there (its own CA):
        what a browser may accept at that origin, and nowhere else, while the sandbox runs."""
        if self.open_payments is None or not self._certificate:
            return ()
        return (ServedCertificate(self.open_payments.origin, self._certificate),)

    def ports(self) -> dict[str, int]:
        """Each site's port (to ask for the same ones next time)."""
        return {
            key: int(site.url.rsplit(":", 1)[1].rstrip("/")) for key, site in self.sites.items()
        }


# Demo sites paid through a wallet address of the sandbox's Open Payments server.
_LINK_TAG_SITES = ("blog",)
# The user's own sandbox Open Payments wallet (to connect as a funding source): 100 USD.
USER_WALLET = "you"
USER_WALLET_BALANCE = 100 * 10**9


async def start_demo_sites(
    network: SandboxNetwork, *, host: str = "127.0.0.1", ports: Mapping[str, int] | None = None
) -> DemoSites:
    """Start every demo site on its own loopback port, each with a sandbox account, and the
    sandbox's Open Payments server with a wallet address for each link-tag site and a funded
    wallet for the user (``DemoSites.user_wallet``).

    ``ports``: the ports the sites had last time. A site's origin is its port, so keeping it
    keeps its settings and history together across restarts; a port now taken by something
    else is replaced by a free one (that site then starts afresh).
    """
    sites: dict[str, DemoSite] = {}
    runners: list[web.AppRunner] = []
    for key, title in _SITES.items():
        link = network.account(f"demo-{key}")
        server = StreamServer(
            link,
            base_address=f"{network.address}.demo-{key}",
            asset_code=network.asset_code,
            asset_scale=network.asset_scale,
        )
        sites[key] = DemoSite(key, title, server)
        server.on_connection = sites[key].on_connection
    tls_dir = Path(tempfile.mkdtemp(prefix="trickle-sandbox-tls-"))
    server_tls, ca_file = sandbox_certificate(tls_dir)

    def receiver(link: Link, address: str) -> ReceiverBackend:
        # The Open Payments account's STREAM receiver; what it receives the blog shows live.
        backend = StreamServerBackend(
            link,
            base_address=address,
            asset_code=network.asset_code,
            asset_scale=network.asset_scale,
        )
        own = backend.server.on_connection

        def on_connection(conn: IlpConnection) -> None:
            if own is not None:
                own(conn)
            for key in _LINK_TAG_SITES:
                sites[key].on_connection(conn)

        backend.server.on_connection = on_connection
        return backend

    op = await serve_open_payments(network, ssl_context=server_tls, backend=receiver, host=host)
    for key in _LINK_TAG_SITES:
        sites[key].wallet_address = op.add_wallet(key, sites[key].title).id
    user_wallet = op.add_wallet(USER_WALLET, "Your sandbox wallet", balance=USER_WALLET_BALANCE)
    for key, site in sites.items():
        runner = web.AppRunner(site.app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await _listen(runner, host, (ports or {}).get(key, 0))
        site.url = f"http://{host}:{runner.addresses[0][1]}/"
        runners.append(runner)
    return DemoSites(
        sites,
        runners,
        op,
        ca_file,
        tls_dir,
        user_wallet.id,
        _certificate=certificate_der(ca_file),
    )


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Serve on ``port`` if it is free, else on any free port."""
    if port:
        try:
            await web.TCPSite(runner, host, port).start()
            return
        except OSError:
            pass
    await web.TCPSite(runner, host, 0).start()
