"""What each packet outcome does to the money: the one table every way of paying follows.

``wallet.stream`` says what it saw (:class:`~wallet.stream.Outcome`); this module says what that
costs. The rule (DESIGN.md, "Invariants"): **money whose fate is uncertain is charged, never
refunded** — a reservation is given back only when Trickle can be sure the receiver did not get
the money.

===============  ============================================================  ==============
outcome          what Trickle knows                                            settlement
===============  ============================================================  ==============
FULFILLED        a verified fulfillment before expiry: the receiver was paid   COMMIT
REFUSED          the receiver's own authenticated STREAM reply in a Reject     RELEASE
                 before expiry: it did not take the money
REJECTED         a Reject without that reply (a connector on the path, or a    HOLD
                 handler forging it): maybe paid
EXPIRED          no answer by the Prepare's expiry                             CHARGE
LATE             an answer after expiry                                        CHARGE
BAD_FULFILLMENT  a fulfillment that does not hash to the condition (also:      CHARGE
                 the provider is marked failing for the document)
LOST             the handler or uplink raised, answered garbage (malformed     CHARGE
                 base64, an ``{id, error}`` reply) or went away after the
                 Prepare left
===============  ============================================================  ==============

* COMMIT: spent, and in history with what the receiver says arrived.
* RELEASE: the reservation goes back to the caps, the budget and the balance.
* CHARGE: counted as spent (``unresolved`` in the ledger, "paid, unconfirmed" to the user),
  never refunded.
* HOLD — the bound on what unverified rejects can release. A held reservation stays open in the
  ledger, so it keeps counting against every cap, the global budget and the balance, while
  STREAM may send that money again under a *new* reservation that must fit beside it. It is
  settled by the receiver's own word: when a later authenticated reply's ``StreamMaxMoney``
  totals (RFC 29 §5.3.5: "totalReceived") add up to exactly what Trickle counted as delivered,
  with no other packet in flight, the receiver provably did not get the held packets: they are
  released. When the receiver reports more, they are charged. When no such evidence comes
  before the connection ends, or more than :data:`HELD_MAX` packets are held, they are charged
  (oldest first). So a handler forging Rejects gets the receiver at most what the caps allow:
  every unit that might have reached it is counted until the receiver itself says otherwise.
"""

from __future__ import annotations

import enum

from wallet.stream import Outcome

__all__ = ["HELD_MAX", "SETTLEMENT", "Settlement"]


class Settlement(enum.Enum):
    COMMIT = "commit"
    RELEASE = "release"
    HOLD = "hold"
    CHARGE = "charge"


SETTLEMENT: dict[Outcome, Settlement] = {
    Outcome.FULFILLED: Settlement.COMMIT,
    Outcome.REFUSED: Settlement.RELEASE,
    Outcome.REJECTED: Settlement.HOLD,
    Outcome.EXPIRED: Settlement.CHARGE,
    Outcome.LATE: Settlement.CHARGE,
    Outcome.BAD_FULFILLMENT: Settlement.CHARGE,
    Outcome.LOST: Settlement.CHARGE,
}

# Unverified rejects held per connection awaiting the receiver's word; beyond this the oldest is
# charged. A path that rejects this many packets in a row without a Fulfill is failing anyway.
HELD_MAX = 8
