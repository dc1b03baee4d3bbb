"""The ``trickle`` command: launches the browser, or runs a wallet subcommand for scripts.

Importing this module must stay cheap (no Qt): ``trickle --version`` and the script
subcommands never load PySide6.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ui import gc_pause
from ui.launch_checks import (
    NO_SANDBOX_WARNING,
    SANDBOX_ENV,
    missing_module_message,
    sandbox_decision,
)
from wallet import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trickle",
        description="Trickle: a web browser with a wallet inside. Pays the sites you read "
        "over Interledger, within the limits you set.",
        epilog="Commands for scripts: "
        + "; ".join(f"trickle {name} — {help}" for name, (_, help) in SUBCOMMANDS.items())
        + ". Run 'trickle COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"Trickle {__version__}")
    parser.add_argument("urls", nargs="*", metavar="URL", help="pages to open")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="keep everything (database, browser data, logs) in DIR "
        "instead of the user data directory",
    )
    network = parser.add_mutually_exclusive_group()
    network.add_argument(
        "--sandbox", action="store_true", help="use the built-in play-money network for this run"
    )
    network.add_argument(
        "--uplink", metavar="URL", help="use this Interledger connector for this run"
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run web pages without Chromium's sandbox (needed as root; a warning bar says so)",
    )
    return parser


# Options of the browser that take a value: their value is never a command's name.
_VALUE_OPTIONS = ("--profile", "--uplink")


def split_command(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(name, its arguments)`` if ``argv`` runs a subcommand, global options anywhere.

    ``trickle --profile DIR history --csv`` is ``history --csv --profile DIR``: options given
    before the command are handed to it (after its own), so they work on either side.
    """
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return None
        if word in _VALUE_OPTIONS:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        if word in SUBCOMMANDS:
            return word, [*argv[i + 1 :], *argv[:i]]
        return None  # the first positional is a URL: the browser
    return None


# Subcommands for scripts: name -> (module in wallet.commands, one-line help).
SUBCOMMANDS = {
    "pay": ("wallet.commands.pay", "send money to a payment pointer or STREAM receiver"),
    "receive": ("wallet.commands.receive", "run a STREAM receiver with an SPSP endpoint"),
    "history": ("wallet.commands.history", "print the payment history (JSON lines or --csv)"),
    "budget": (
        "wallet.commands.budget",
        "show or set the monthly budget and sites' rates of pay, caps and state",
    ),
    "sites": ("wallet.commands.sites", "list the sites with their state and what they were paid"),
    "account": ("wallet.commands.account", "show the wallet's accounts and balances"),
}


def run_subcommand(name: str, argv: Sequence[str]) -> int:
    """Run ``trickle NAME ...`` (no Qt is imported)."""
    import importlib

    module_name, summary = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"trickle {name}", description=summary)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if (command := split_command(argv)) is not None:
        return run_subcommand(*command)
    args = build_parser().parse_args(argv)
    # No automatic garbage collection until the first page has painted (ui/gc_pause.py).
    gc_pause.hold(gc_pause.STARTUP)
    try:
        return _launch(args)
    finally:
        gc_pause.release(gc_pause.STARTUP)  # a launch that ended before its first paint


def _launch(args: argparse.Namespace) -> int:
    """Hand the URLs to the running Trickle, or start the browser."""
    try:
        from ui.qt_start import load_pyside

        load_pyside()  # before the browser's modules: PySide6 then scans each one cheaply
        from ui.browser.single_instance import hand_off_launch  # issue 21: QtNetwork only
    except ImportError as e:
        print(f"trickle: {missing_module_message(e)}", file=sys.stderr)
        return 1
    if hand_off_launch(getattr(args, "profile", None), getattr(args, "urls", ())):
        return 0  # the running Trickle for this profile opens the URLs
    decision = sandbox_decision(os.geteuid(), args.no_sandbox, os.environ)
    if decision.refusal is not None:
        print(f"trickle: {decision.refusal}", file=sys.stderr)
        return 2
    if decision.disable:
        os.environ[SANDBOX_ENV] = "1"  # read by QtWebEngine when it starts
        print(f"trickle: warning: {NO_SANDBOX_WARNING}", file=sys.stderr)
    try:
        from ui.app import run
    except ImportError as e:
        print(f"trickle: {missing_module_message(e)}", file=sys.stderr)
        return 1
    return int(run(args))


if __name__ == "__main__":
    sys.exit(main())
