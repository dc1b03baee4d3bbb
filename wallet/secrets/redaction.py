"""Scrubbing secret values out of log records and error text.

Owns :class:`RedactingFilter` and :func:`install_redaction`. Invariant: once installed on a
logger, no record that passes through that logger's handlers carries the value of a live
:class:`~wallet.secrets.secret.Secret` — not in the message, its arguments, the formatted
exception or the stack — because the filter formats the record itself, replaces every value with
``***`` and freezes the result (``args`` cleared, ``exc_text`` set) before any handler writes it.

A logger's own filters only see records logged *on that logger*, not ones propagated from
children, so :func:`install_redaction` also puts the filter on every handler the logger has.
Handlers added later need ``handler.addFilter(RedactingFilter())`` or another call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from wallet.secrets.secret import HIDDEN, live_secret_values


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every live secret's value (and each of ``extra``) replaced by ``***``."""
    return _redact(text, live_secret_values(), extra)


def _redact(text: str, values: list[str], extra: Iterable[str] = ()) -> str:
    more = [v for v in extra if v]
    if more:
        values = sorted({*values, *more}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, HIDDEN)
    return text


class RedactingFilter(logging.Filter):
    """A filter that formats each record once, redacted, and never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = live_secret_values()
        if not values:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not leak args via handleError
            message = f"{record.msg!s} [log arguments could not be formatted]"
        record.msg = _redact(message, values)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text, values)
        # Formatters render exc_text when set; drop exc_info so none can re-render it unredacted.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = _redact(record.stack_info, values)
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Redact secrets from everything ``logger`` (the root logger by default) writes.

    Idempotent: the logger and each of its current handlers get one filter, shared.
    """
    target = logger if logger is not None else logging.getLogger()
    existing = [f for f in target.filters if isinstance(f, RedactingFilter)]
    flt = existing[0] if existing else RedactingFilter()
    if not existing:
        target.addFilter(flt)
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
