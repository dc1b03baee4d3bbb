"""When a client may call an outgoing payment completed: the OpenAPI has no ``state``; the
rule reads ``failed`` and the three amounts (see ``OutgoingPayment.state``). The documents
are the OpenAPI file's own examples, parsed as the wallet sends them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.op_support import load_spec
from wallet.openpayments.outgoing_models import OutgoingPayment, OutgoingPaymentState


def _examples() -> list[dict[str, Any]]:
    schema = load_spec("resource-server")["components"]["schemas"]["outgoing-payment"]
    return [dict(e) for e in schema["examples"]]


def _amount(value: int, code: str = "USD", scale: int = 2) -> dict[str, Any]:
    return {"value": str(value), "assetCode": code, "assetScale": scale}


def _payment(**changes: Any) -> OutgoingPayment:
    doc = _examples()[0] | {"createdAt": "2022-03-12T23:20:50.52Z"} | changes
    return OutgoingPayment.parse(doc)


def test_the_specs_own_example_with_a_fee_is_completed() -> None:
    # debitAmount 2600, receiveAmount 2500, sentAmount 2500: the fee was not sent
    assert _payment().state is OutgoingPaymentState.COMPLETED


@pytest.mark.parametrize(
    ("sent", "debit", "receive", "state"),
    [
        (0, 2600, 2500, OutgoingPaymentState.SENDING),  # funding
        (1200, 2600, 2500, OutgoingPaymentState.SENDING),  # part way
        (2600, 2600, 2600, OutgoingPaymentState.COMPLETED),  # no fee
        (2500, 2600, 2500, OutgoingPaymentState.COMPLETED),  # fee out of the debit amount
    ],
)
def test_one_asset(sent: int, debit: int, receive: int, state: OutgoingPaymentState) -> None:
    payment = _payment(
        sentAmount=_amount(sent), debitAmount=_amount(debit), receiveAmount=_amount(receive)
    )
    assert payment.state is state


def test_across_assets_only_a_full_send_says_completed() -> None:
    eur = _amount(2300, "EUR", 2)
    assert _payment(receiveAmount=eur).state is OutgoingPaymentState.SENDING  # fee: unknown
    full = _payment(receiveAmount=eur, sentAmount=_amount(2600))
    assert full.state is OutgoingPaymentState.COMPLETED


def test_failed_is_failed_whatever_was_sent() -> None:
    for sent in (0, 1200, 2600):
        payment = _payment(failed=True, sentAmount=_amount(sent))
        assert payment.state is OutgoingPaymentState.FAILED
