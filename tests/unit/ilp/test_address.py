from __future__ import annotations

import pytest

from wallet.ilp import Address, InvalidAddressError


def test_address_helpers() -> None:
    a = Address("test.alice")
    assert a.scheme == "test"
    assert a.child("bob") == "test.alice.bob"
    assert a.is_prefix_of("test.alice") and a.is_prefix_of("test.alice.x")
    assert not a.is_prefix_of("test.alicex")


def test_long_invalid_address_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidAddressError) as e:
        Address("x" * 5000)
    assert len(str(e.value)) < 200


def test_trailing_newline_is_not_an_address() -> None:
    with pytest.raises(InvalidAddressError):
        Address("test.alice\n")
