"""ILP addresses (RFC 15).

RFC 15: "ILP addresses are a hierarchical dot-separated string ... The allocation scheme
(``g``, ``private``, ``example``, ``peer``, ``self``, ``test``, ``test1``-``test3``, ``local``)
is the first segment", each further segment is ``[a-zA-Z0-9_~-]+``, and "the total length of an
ILP address must not exceed 1023 characters".
"""

from __future__ import annotations

import functools
import re

from wallet.ilp.errors import InvalidAddressError

MAX_ADDRESS_LENGTH = 1023
ALLOCATION_SCHEMES = frozenset(
    {"g", "private", "example", "peer", "self", "test", "test1", "test2", "test3", "local"}
)
_ADDRESS = re.compile(r"(?:g|private|example|peer|self|test[1-3]?|local)(?:\.[a-zA-Z0-9_~-]+)+")

__all__ = ["MAX_ADDRESS_LENGTH", "Address", "is_valid_address"]


@functools.lru_cache(maxsize=4096)
def is_valid_address(value: str) -> bool:
    """Whether ``value`` is a valid ILP address.

    Cached: a STREAM connection sends every packet to the same few addresses.
    """
    return len(value) <= MAX_ADDRESS_LENGTH and _ADDRESS.fullmatch(value) is not None


class Address(str):
    """A validated ILP address. It *is* a ``str``, so it goes wherever one does.

    Raises:
        InvalidAddressError: on construction from an invalid address.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Address:
        if not isinstance(value, str) or not is_valid_address(value):
            shown = value[:64] + "…" if isinstance(value, str) and len(value) > 64 else value
            raise InvalidAddressError(f"not a valid ILP address: {shown!r}")
        return super().__new__(cls, value)

    @property
    def scheme(self) -> str:
        """The allocation scheme (first segment), e.g. ``"g"`` or ``"test"``."""
        return self.split(".", 1)[0]

    def child(self, segment: str) -> Address:
        """This address with one more segment."""
        return Address(f"{self}.{segment}")

    def is_prefix_of(self, other: str) -> bool:
        """Whether ``other`` is this address or lies under it."""
        return other == self or other.startswith(self + ".")
