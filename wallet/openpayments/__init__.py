"""Open Payments, client side: wallet addresses, grants, incoming payments (no Qt, no SQL).

:mod:`~wallet.openpayments.client` speaks the protocol over a swappable
:mod:`~wallet.openpayments.transport`; :mod:`~wallet.openpayments.signing` signs requests as
the official client does; :mod:`~wallet.openpayments.receiver` turns a wallet address or a
payment pointer into STREAM credentials for a payment.
"""
