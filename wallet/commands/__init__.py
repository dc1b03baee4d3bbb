"""Command-line subcommands of ``trickle`` that need no window (pay, receive, ...).

Each module has ``add_arguments(parser)`` and ``run(args) -> int``; ``ui/cli.py`` dispatches.
They print JSON on stdout for scripts (``pay --json``: one object; ``receive --json``: one line
per event; ``history``, ``budget``: always), words for people otherwise, and progress on stderr
on a terminal; failures exit non-zero with a clear message, never a traceback. Library log
lines go to ``--log FILE`` or, with ``--verbose``, to stderr — never to stderr on their own.
"""
