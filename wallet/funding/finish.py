"""Where the wallet sends the browser back after the user approved (or declined) the grant.

GNAP's finish redirect (OPEN-PAYMENTS-NOTES §4): "After consent the browser arrives at your
finish URI with ``?interact_ref=<ref>&hash=<hash>`` (or ``?result=grant_rejected``)". A
browser's internal page cannot be that URI (FLOWS: "browser's internal URLs can not be opened
from an external source"), so Trickle listens on loopback: ``http://127.0.0.1:<port>/finish/
<state>``, one unguessable ``state`` per connection attempt. The page the browser lands on says
in words what happened; the connect flow gets the URL (and checks the ``hash`` itself: anyone
on the machine could call this port, nobody else knows the nonces).
"""

from __future__ import annotations

import asyncio
import html
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["FinishListener"]

# What the connect flow answers for a redirect: (title, words) of the page the user sees.
Outcome = tuple[str, str]
Handler = Callable[[str], Awaitable[Outcome]]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;color:#222}}
h1{{font-size:1.4em}}</style></head>
<body><h1 id="title">{title}</h1><p id="words">{words}</p></body></html>
"""


class FinishListener:
    """A loopback HTTP server for finish redirects (starts on first use)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._handlers: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._lock = asyncio.Lock()

    async def uri(self, handler: Handler) -> tuple[str, Callable[[], None]]:
        """A fresh finish URI whose redirect goes to ``handler`` (once), and how to forget it."""
        await self._start()
        state = secrets.token_urlsafe(16)
        self._handlers[state] = handler

        def forget() -> None:
            self._handlers.pop(state, None)

        return f"http://{self._host}:{self._port}/finish/{state}", forget

    async def _start(self) -> None:
        async with self._lock:
            if self._runner is not None:
                return
            app = web.Application()
            app.router.add_get("/finish/{state}", self._finish)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self._host, 0)
            await site.start()
            server = site._server
            assert server is not None
            sockets = getattr(server, "sockets", None) or []
            self._port = int(sockets[0].getsockname()[1])
            self._runner = runner

    async def _finish(self, request: web.Request) -> web.Response:
        handler = self._handlers.pop(request.match_info["state"], None)
        if handler is None:
            title, words = (
                "Nothing to finish here",
                "Trickle is not waiting for this wallet any more. Start again from the "
                "Account page of Trickle's wallet.",
            )
            status = 404
        else:
            title, words = await handler(str(request.url))
            status = 200
        body = _PAGE.format(title=html.escape(title), words=html.escape(words))
        return web.Response(
            text=body,
            status=status,
            content_type="text/html",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    async def close(self) -> None:
        self._handlers.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
