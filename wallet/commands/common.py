"""What the network subcommands share: opening the uplink from ``--uplink`` and a token."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from wallet.errors import WalletError
from wallet.ilp import IldcpResponse
from wallet.net.config import Uplink, UplinkSettings, build_uplink, split_credentials
from wallet.net.errors import AccountConfigError, UplinkDisconnectedError, UplinkUnreachableError
from wallet.net.ildcp import fetch_account_config
from wallet.secrets import MemorySecretStore, Secret, SecretStore, open_secret_store

TOKEN_ENV = "TRICKLE_UPLINK_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def add_uplink_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--uplink",
        required=True,
        metavar="URL",
        help="the connector: https://… (ILP-over-HTTP) or btp+wss://[user@]host (BTP); "
        f"the token comes from ${TOKEN_ENV} or the keyring",
    )
    parser.add_argument(
        "--listen-port",
        type=int,
        default=None,
        metavar="P",
        help="ILP-over-HTTP: the 127.0.0.1 port where the connector posts packets for us",
    )
    parser.add_argument("--account", default="", help="BTP username / HTTP peer name")
    parser.add_argument("--profile-id", default="default", help="names the token in the keyring")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="also print the libraries' log lines on stderr"
    )
    parser.add_argument(
        "--log", metavar="FILE", help="append the libraries' log lines to FILE (default: none)"
    )


def setup_logging(args: argparse.Namespace) -> None:
    """Library log lines go to ``--log FILE``, or to stderr with ``--verbose``; else nowhere.

    Without a handler Python prints warnings on stderr by itself ("last resort"), which is how
    internal lines such as the driver's "treating as T00" used to reach people.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if getattr(args, "verbose", False):
        handlers.append(logging.StreamHandler(sys.stderr))
    if getattr(args, "log", None):
        handlers.append(logging.FileHandler(args.log, encoding="utf-8"))
    if not handlers:
        handlers.append(logging.NullHandler())
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)


def fail(message: str, code: int = 1) -> int:
    print(f"trickle: {message}", file=sys.stderr)
    return code


def emit(doc: dict[str, Any]) -> None:
    print(json.dumps(doc), flush=True)


def progress(text: str) -> None:
    """A progress line for people, only on a terminal."""
    if sys.stderr.isatty():
        print(f"\r{text}", end="", file=sys.stderr, flush=True)


def uplink_settings(args: argparse.Namespace) -> tuple[UplinkSettings, SecretStore]:
    """The uplink's settings and where its token is, from the command line (no I/O but the
    keyring lookup). Call before connecting, so bad arguments stop everything at once.

    The token: from the URL's password (``btp+ws://user:token@host``), else
    ``$TRICKLE_UPLINK_TOKEN``, else the keyring entry for ``--profile-id``.

    Raises:
        WalletError: bad URL or settings, in words.
    """
    url, user, token = split_credentials(args.uplink)
    store: SecretStore
    settings = UplinkSettings.from_url(
        url,
        account=args.account or user,
        profile_id=args.profile_id,
        listen_port=args.listen_port,
    )
    token = token or (Secret(os.environ[TOKEN_ENV]) if os.environ.get(TOKEN_ENV) else None)
    if token is not None:
        store = MemorySecretStore()
        store.set(settings.token_name, token)
    else:
        store = open_secret_store()
    return settings, store


async def open_from_args(
    args: argparse.Namespace, *, retry_for: float = 0.0
) -> tuple[Uplink, IldcpResponse]:
    """Connect the uplink named on the command line and run IL-DCP, retrying a connector that
    cannot be reached for up to ``retry_for`` seconds.

    Raises:
        UplinkError: the connector could not be reached (:class:`UplinkUnreachableError`,
            also when only IL-DCP's packet found nobody), refused the token, ...
        WalletError: whatever else stopped it, in words.
    """
    settings, store = uplink_settings(args)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + retry_for
    delay = 0.1
    while True:
        try:
            return await _open_once(settings, store)
        except (UplinkUnreachableError, UplinkDisconnectedError):
            if loop.time() + delay > give_up:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def _open_once(settings: UplinkSettings, store: SecretStore) -> tuple[Uplink, IldcpResponse]:
    uplink = build_uplink(settings, store)
    try:
        await uplink.connect()
        account = await fetch_account_config(uplink)
    except AccountConfigError as e:
        await uplink.close()
        # An ILP-over-HTTP uplink first talks to the connector with IL-DCP's packet: when that
        # found nobody, say so (not "check the child account").
        cause = getattr(uplink, "last_error", None)
        if isinstance(cause, UplinkUnreachableError | UplinkDisconnectedError):
            raise cause from e
        raise
    except BaseException:
        await uplink.close()
        raise
    uplink.own_address = account.client_address
    return uplink, account


def describe(error: BaseException) -> str:
    """Words for the user: a WalletError's own message, otherwise its type."""
    if isinstance(error, WalletError):
        return str(error)
    return f"{type(error).__name__}: {error}"
