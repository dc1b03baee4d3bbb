"""Open Payments, client side: wallet addresses, grants, incoming payments, and paying from the
user's own wallet (no Qt, no SQL).

:mod:`~wallet.openpayments.client` speaks the protocol over a swappable
:mod:`~wallet.openpayments.transport`; :mod:`~wallet.openpayments.signing` signs requests as
the official client does; :mod:`~wallet.openpayments.receiver` turns a wallet address or a
payment pointer into STREAM credentials for a payment; :mod:`~wallet.openpayments.user_wallet`
asks the user's wallet for an interactive outgoing-payment grant and pays from it (quotes,
outgoing payments; models in :mod:`~wallet.openpayments.outgoing_models`).
"""
