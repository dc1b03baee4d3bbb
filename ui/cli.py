"""The ``trickle`` command: launches the browser, or runs a wallet subcommand for scripts.

Importing this module must stay cheap (no Qt): ``trickle --version`` and the script
subcommands never load PySide6.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    return parser


# Subcommands for scripts: name -> (module in wallet.commands, one-line help).
SUBCOMMANDS = {
    "pay": ("wallet.commands.pay", "send money to a payment pointer or STREAM receiver"),
    "receive": ("wallet.commands.receive", "run a STREAM receiver with an SPSP endpoint"),
    "history": ("wallet.commands.history", "print the payment history (JSON lines or --csv)"),
    "budget": ("wallet.commands.budget", "show or set sites' rates of pay, caps and state"),
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
    if argv and argv[0] in SUBCOMMANDS:
        return run_subcommand(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    from ui.browser.single_instance import hand_off_launch  # issue 21: QtNetwork only

    if hand_off_launch(getattr(args, "profile", None), getattr(args, "urls", ())):
        return 0  # the running Trickle for this profile opens the URLs
    try:
        from ui.app import run  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print(f"Trickle {__version__}: the browser window is not built yet.", file=sys.stderr)
        return 0
    return int(run(args))


if __name__ == "__main__":
    sys.exit(main())
