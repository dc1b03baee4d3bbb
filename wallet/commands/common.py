"""What the network subcommands share: opening the uplink from ``--uplink`` and a token."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from wallet.errors import WalletError
from wallet.ilp import IldcpResponse
from wallet.net.config import Uplink, UplinkSettings, open_uplink, split_credentials
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


def fail(message: str, code: int = 1) -> int:
    print(f"trickle: {message}", file=sys.stderr)
    return code


def emit(doc: dict[str, Any]) -> None:
    print(json.dumps(doc), flush=True)


def progress(text: str) -> None:
    """A progress line for people, only on a terminal."""
    if sys.stderr.isatty():
        print(f"\r{text}", end="", file=sys.stderr, flush=True)


async def open_from_args(args: argparse.Namespace) -> tuple[Uplink, IldcpResponse]:
    """Connect the uplink named on the command line and run IL-DCP.

    The token: from the URL's password (``btp+ws://user:token@host``), else
    ``$TRICKLE_UPLINK_TOKEN``, else the keyring entry for ``--profile-id``.

    Raises:
        WalletError: whatever stopped it, in words.
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
    return await open_uplink(settings, store)


def describe(error: BaseException) -> str:
    """Words for the user: a WalletError's own message, otherwise its type."""
    if isinstance(error, WalletError):
        return str(error)
    return f"{type(error).__name__}: {error}"
