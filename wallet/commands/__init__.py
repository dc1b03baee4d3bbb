"""Command-line subcommands of ``trickle`` that need no window (pay, receive, ...).

Each module has ``add_arguments(parser)`` and ``run(args) -> int``; ``ui/cli.py`` dispatches.
They print one JSON object (or one JSON line per event) on stdout for scripts and readable
progress on stderr for people; failures exit non-zero with a clear message, never a traceback.
"""
