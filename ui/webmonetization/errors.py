"""Errors that a page sees: each becomes a JS ``Error`` whose ``name`` is ``name``.

Only these reach a page with their message. Anything else raised while serving a page's call
is logged and shown to the page as a generic ``Error`` ("internal error") — never a traceback.
Code outside ``ui`` (the STREAM driver, the wallet service) cannot import this module; it marks
an exception as page-visible by giving it a class attribute ``js_name`` (see ``page_error``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Names a page may see. The spec names NoHandlerRegisteredError; the rest are the Web's usual
# DOMException names plus Trickle's own for things the spec leaves open.
JS_ERROR_NAMES = frozenset(
    {
        "Error",
        "TypeError",
        "RangeError",
        "NotAllowedError",
        "SecurityError",
        "InvalidStateError",
        "InvalidAccessError",
        "AbortError",
        "TimeoutError",
        "NetworkError",
        "NoHandlerRegisteredError",
        "InvalidAddressError",
        "InvalidSharedSecretError",
        "BudgetExceededError",
        "HandlerUnavailableError",
    }
)
MAX_MESSAGE = 300


class PageError(Exception):
    """An error a page is meant to see, as ``{name, message}``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name if name in JS_ERROR_NAMES else "Error"
        self.message = message[:MAX_MESSAGE]


@dataclass(frozen=True, slots=True)
class JsError:
    name: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "message": self.message}


def page_error(exc: BaseException) -> JsError:
    """What a page is shown for ``exc``."""
    if isinstance(exc, PageError):
        return JsError(exc.name, exc.message)
    js_name = getattr(type(exc), "js_name", None)
    if isinstance(js_name, str) and js_name in JS_ERROR_NAMES:
        return JsError(js_name, str(exc)[:MAX_MESSAGE])
    return JsError("Error", "Internal error in the browser")
