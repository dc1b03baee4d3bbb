"""What the Open Payments servers answer, parsed strictly into typed values.

Field names and types follow the OpenAPI files (``resources/openapi/open-payments/``, spec
1.3.0): ``wallet-address``, ``grant``/``access_token``/``continue``, ``incoming-payment-with-
methods``, ``ilp-payment-method``, ``amount``. A missing or ill-typed field is an
:class:`~wallet.openpayments.errors.InvalidResponseError`; unknown fields are ignored, as a
client must. Amounts are integers with their asset code and scale. Tokens and shared secrets
are hidden from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet.ilp import is_valid_address
from wallet.openpayments.errors import IncomingPaymentExpiredError, InvalidResponseError
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.transport import require_https
from wallet.secrets import Secret

__all__ = [
    "Amount",
    "Grant",
    "IlpCredentials",
    "IncomingPayment",
    "WalletAddress",
    "decode_shared_secret",
    "format_timestamp",
]


def require_field(doc: Mapping[str, Any], name: str, kind: type, where: str) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidResponseError(f"{where}: {name!r} is missing or not a {kind.__name__}")
    return value


def https_field(doc: Mapping[str, Any], name: str, where: str) -> str:
    value = require_field(doc, name, str, where)
    try:
        return require_https(value, f"{where} {name}")
    except ValueError as e:
        raise InvalidResponseError(f"{where}: {name!r} is not an https URL") from e


def parse_timestamp(value: object, what: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidResponseError(f"{what} is not a date-time string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise InvalidResponseError(f"{what} is not an ISO 8601 date-time") from e
    if parsed.tzinfo is None:
        raise InvalidResponseError(f"{what} has no time zone")
    return parsed


def format_timestamp(when: dt.datetime) -> str:
    """``2026-12-06T05:40:00.000Z``, as JavaScript's ``toISOString`` writes it."""
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def decode_shared_secret(value: object) -> bytes:
    """A 32-byte STREAM shared secret from base64url (Rafiki) or standard base64.

    Raises:
        InvalidResponseError: not a string, not base64, or not 32 bytes.
    """
    if not isinstance(value, str):
        raise InvalidResponseError("sharedSecret is not a string")
    text = value.replace("-", "+").replace("_", "/")
    try:
        secret = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidResponseError("sharedSecret is not base64") from e
    if len(secret) != 32:
        raise InvalidResponseError(f"sharedSecret is {len(secret)} bytes, not 32")
    return secret


@dataclass(frozen=True)
class Amount:
    value: int
    asset_code: str
    asset_scale: int

    @classmethod
    def parse(cls, doc: object, what: str) -> Amount:
        if not isinstance(doc, Mapping):
            raise InvalidResponseError(f"{what} is not an amount object")
        raw = require_field(doc, "value", str, what)
        if not raw.isdigit():
            raise InvalidResponseError(f"{what}.value is not a non-negative integer string")
        scale = require_field(doc, "assetScale", int, what)
        if not 0 <= scale <= 255:
            raise InvalidResponseError(f"{what}.assetScale is out of range")
        return cls(int(raw), require_field(doc, "assetCode", str, what), scale)

    def to_json(self) -> dict[str, object]:
        return {
            "value": str(self.value),
            "assetCode": self.asset_code,
            "assetScale": self.asset_scale,
        }


@dataclass(frozen=True)
class WalletAddress:
    """A wallet address document. ``auth_server``/``resource_server`` come from it, never from
    the URL (Rafiki puts a tenant in their paths)."""

    id: str
    public_name: str | None
    asset_code: str
    asset_scale: int
    auth_server: str
    resource_server: str

    @classmethod
    def parse(cls, doc: object) -> WalletAddress:
        where = "wallet address"
        if not isinstance(doc, Mapping):
            raise InvalidResponseError(f"the {where} is not a JSON object")
        name = doc.get("publicName")
        scale = require_field(doc, "assetScale", int, where)
        if not 0 <= scale <= 255:
            raise InvalidResponseError(f"{where}: assetScale is out of range")
        return cls(
            id=https_field(doc, "id", where),
            public_name=name if isinstance(name, str) else None,
            asset_code=require_field(doc, "assetCode", str, where),
            asset_scale=scale,
            auth_server=https_field(doc, "authServer", where),
            resource_server=https_field(doc, "resourceServer", where),
        )


@dataclass(frozen=True)
class Grant:
    """A finalized grant: its access token and how to cancel it. ``key`` signed its requests."""

    access_token: Secret = field(repr=False)
    manage_url: str
    expires_in: int | None
    continue_uri: str
    continue_token: Secret = field(repr=False)
    key: ClientKey
    issued_at: dt.datetime | None = None
    """When the token was received (the client's clock): with ``expires_in``, when it ends."""
    access: tuple[Mapping[str, Any], ...] = ()
    """The access items the token carries, as the auth server listed them."""

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the access token stops working, if the server said and we know when we got it."""
        if self.expires_in is None or self.issued_at is None:
            return None
        return self.issued_at + dt.timedelta(seconds=self.expires_in)

    def expired(self, now: dt.datetime, margin: dt.timedelta = dt.timedelta(seconds=5)) -> bool:
        """The token ends within ``margin`` of ``now`` (rotate it before use)."""
        ends = self.expires_at
        return ends is not None and now >= ends - margin

    @classmethod
    def parse(
        cls,
        doc: object,
        key: ClientKey,
        *,
        issued_at: dt.datetime | None = None,
        continuation: tuple[str, Secret] | None = None,
    ) -> Grant:
        """A grant answer. ``continuation`` = ``(uri, token)`` for answers without ``continue``
        (token rotation answers carry only ``access_token``)."""
        where = "grant"
        if not isinstance(doc, Mapping):
            raise InvalidResponseError("the grant is not a JSON object")
        token = doc.get("access_token")
        if not isinstance(token, Mapping):
            raise InvalidResponseError("the grant has no access_token")
        cont = doc.get("continue")
        if continuation is not None and cont is None:
            continue_uri, continue_token = continuation
        else:
            if not isinstance(cont, Mapping):
                raise InvalidResponseError("the grant has no continue")
            cont_token = cont.get("access_token")
            if not isinstance(cont_token, Mapping):
                raise InvalidResponseError("the grant's continue has no access_token")
            continue_uri = https_field(cont, "uri", where)
            continue_token = Secret(require_field(cont_token, "value", str, where))
        expires = token.get("expires_in")
        access = token.get("access")
        return cls(
            access_token=Secret(require_field(token, "value", str, where)),
            manage_url=https_field(token, "manage", where),
            expires_in=expires
            if isinstance(expires, int) and not isinstance(expires, bool)
            else None,
            continue_uri=continue_uri,
            continue_token=continue_token,
            key=key,
            issued_at=issued_at,
            access=tuple(a for a in access if isinstance(a, Mapping))
            if isinstance(access, list)
            else (),
        )


@dataclass(frozen=True)
class IlpCredentials:
    """STREAM credentials from an ``ilp`` payment method."""

    ilp_address: str
    shared_secret: bytes = field(repr=False)


@dataclass(frozen=True)
class IncomingPayment:
    id: str
    wallet_address: str
    completed: bool
    received_amount: Amount
    incoming_amount: Amount | None
    expires_at: dt.datetime | None
    created_at: dt.datetime
    credentials: IlpCredentials | None
    metadata: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, doc: object) -> IncomingPayment:
        where = "incoming payment"
        if not isinstance(doc, Mapping):
            raise InvalidResponseError("the incoming payment is not a JSON object")
        completed = doc.get("completed")
        if not isinstance(completed, bool):
            raise InvalidResponseError(f"{where}: 'completed' is missing or not a boolean")
        incoming = doc.get("incomingAmount")
        expires = doc.get("expiresAt")
        metadata = doc.get("metadata")
        return cls(
            id=https_field(doc, "id", where),
            wallet_address=https_field(doc, "walletAddress", where),
            completed=completed,
            received_amount=Amount.parse(doc.get("receivedAmount"), f"{where} receivedAmount"),
            incoming_amount=None if incoming is None else Amount.parse(incoming, "incomingAmount"),
            expires_at=None if expires is None else parse_timestamp(expires, "expiresAt"),
            created_at=parse_timestamp(doc.get("createdAt"), "createdAt"),
            credentials=_ilp_method(doc.get("methods")),
            metadata=metadata if isinstance(metadata, Mapping) else None,
        )

    def is_open(self, now: dt.datetime) -> bool:
        """Takes money: not completed and not expired."""
        return not self.completed and (self.expires_at is None or now < self.expires_at)

    def renewal_due(self, now: dt.datetime, lead: dt.timedelta = dt.timedelta(minutes=1)) -> bool:
        """Time to create the next incoming payment: this one ends within ``lead`` (or has)."""
        return self.completed or (self.expires_at is not None and now >= self.expires_at - lead)

    def require_credentials(self, now: dt.datetime) -> IlpCredentials:
        """The STREAM credentials, if this payment still takes money.

        Raises:
            IncomingPaymentExpiredError: completed, expired, or no ``ilp`` method offered.
        """
        if not self.is_open(now) or self.credentials is None:
            raise IncomingPaymentExpiredError(
                f"the incoming payment {self.id} is {'completed' if self.completed else 'expired'}"
                " and takes no more money",
                url=self.id,
            )
        return self.credentials


def _ilp_method(methods: object) -> IlpCredentials | None:
    if methods is None:
        return None
    if not isinstance(methods, list):
        raise InvalidResponseError("incoming payment: 'methods' is not a list")
    for method in methods:
        if isinstance(method, Mapping) and method.get("type") == "ilp":
            address = require_field(method, "ilpAddress", str, "ilp method")
            if not is_valid_address(address):
                raise InvalidResponseError("ilp method: ilpAddress is not an ILP address")
            return IlpCredentials(address, decode_shared_secret(method.get("sharedSecret")))
    return None
