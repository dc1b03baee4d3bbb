"""The sandbox Open Payments server's state: wallets, grants, incoming payments, and the ILP side
that credits incoming payments with what their STREAM receiver got.

Like Rafiki, the receiver itself is stateless about payments (:class:`ReceiverBackend`: it hands
out STREAM credentials for a payment tag and answers Prepares); the server keeps the books. A
Prepare for an incoming payment's ``ilpAddress`` reaches the receiver only while the payment is
open (not completed, not expired); when the receiver fulfills it, its amount is added to
``receivedAmount``, and reaching ``incomingAmount`` completes the payment. Unlike Rafiki, the
sandbox does not refuse the packet that would overshoot ``incomingAmount`` (its receiver is not
told the cap); Trickle never sets one. Prepares for other addresses under the account
(SPSP on the wallet address) go to the receiver uncredited.

One owner per piece of state: :class:`OpenPaymentsLedger` owns the wallets, grants and incoming
payments; nothing else mutates them. Tokens are :class:`~wallet.secrets.Secret` values.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import Link
from wallet.net.stream_api import IlpConnection
from wallet.net.stream_server import StreamServer
from wallet.openpayments.models import format_timestamp
from wallet.openpayments.signing import public_key_from_jwk
from wallet.secrets import Secret

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "GRANT_WAIT_SECONDS",
    "GrantState",
    "Interaction",
    "OpenPaymentsLedger",
    "ReceiverBackend",
    "SandboxGrant",
    "SandboxIncomingPayment",
    "SandboxWallet",
    "StreamServerBackend",
    "base64url",
]

ACCESS_TOKEN_LIFETIME = dt.timedelta(seconds=600)  # Rafiki's ACCESS_TOKEN_EXPIRY_SECONDS
GRANT_WAIT_SECONDS = 5  # Rafiki's WAIT_SECONDS
MAX_INCOMING_PAYMENT_LIFETIME = dt.timedelta(days=30)  # Rafiki's INCOMING_PAYMENT_EXPIRY_MAX_MS


class ReceiverBackend(Protocol):
    """A stateless STREAM receiver behind the sandbox's ILP account."""

    async def credentials(self, payment_tag: str) -> tuple[str, bytes]:
        """``(ilp_address, shared_secret)`` for a new connection tagged ``payment_tag``."""
        ...

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        """Answer a Prepare for one of its addresses."""
        ...


class StreamServerBackend:
    """Trickle's own STREAM receiver (:class:`~wallet.net.stream_server.StreamServer`)."""

    def __init__(self, link: Link, *, base_address: str, asset_code: str, asset_scale: int) -> None:
        self.server = StreamServer(
            link,
            base_address=base_address,
            asset_code=asset_code,
            asset_scale=asset_scale,
            on_connection=self._on_connection,
        )
        self.received: dict[str, int] = {}
        """What the receiver itself counted, by payment tag (its own books, not the ledger's)."""

    def _on_connection(self, conn: IlpConnection) -> None:
        tag = conn.connection_tag or ""

        def on_money(amount: int) -> None:
            self.received[tag] = self.received.get(tag, 0) + amount

        conn.on("stream", lambda stream: stream.on("money", on_money))

    async def credentials(self, payment_tag: str) -> tuple[str, bytes]:
        issued = self.server.credentials(connection_tag=payment_tag)
        return issued.destination_account, issued.shared_secret

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        return await self.server.handle(prepare)

    async def aclose(self) -> None:
        await self.server.aclose()


@dataclass(frozen=True)
class SandboxWallet:
    name: str
    id: str
    public_name: str
    asset_code: str
    asset_scale: int


class GrantState(enum.Enum):
    """Rafiki's grant states (RAF auth ``grant/model.ts``), with ``finalized`` split by why."""

    PENDING = "pending"  # waiting for the user at the consent page
    APPROVED = "approved"  # the user accepted; the client has not continued yet
    ISSUED = "issued"  # an access token was issued
    REJECTED = "rejected"  # the user declined
    REVOKED = "revoked"  # cancelled by the client (DELETE continue)


@dataclass
class Interaction:
    """The consent step of an interactive grant: ``/auth/interact/<id>/<nonce>``."""

    id: str
    nonce: str = field(repr=False)  # also the grant answer's interact.finish
    finish_uri: str | None
    client_nonce: str | None = field(repr=False)
    ref: str | None = field(default=None, repr=False)  # interact_ref, once the user decided


@dataclass
class SandboxGrant:
    id: str
    access_token: Secret = field(repr=False)
    continue_token: Secret = field(repr=False)
    kid: str
    key: Ed25519PublicKey | None = field(repr=False)  # a {jwk} client's key
    wallet_id: str
    actions: frozenset[str]
    expires_at: dt.datetime  # of the current access token
    access: list[dict[str, Any]]
    revoked: bool = False  # the whole grant was cancelled
    client_wallet: str | None = None  # a wallet-address client (its jwks.json keys sign)
    state: GrantState = GrantState.ISSUED
    token_id: str = ""  # the current token's management id (/auth/token/<token_id>)
    token_active: bool = True  # false once revoked (DELETE manage) or rotated away
    interaction: Interaction | None = None
    last_continued_at: dt.datetime | None = None

    def access_item(self, kind: str, action: str) -> dict[str, Any] | None:
        """The access item of type ``kind`` that allows ``action`` (or ``<action>-all``)."""
        for item in self.access:
            actions = item.get("actions", ())
            if item.get("type") == kind and (action in actions or f"{action}-all" in actions):
                return item
        return None


@dataclass
class SandboxIncomingPayment:
    id: str
    wallet: SandboxWallet
    grant_id: str
    ilp_address: str
    shared_secret: bytes = field(repr=False)
    created_at: dt.datetime
    expires_at: dt.datetime
    incoming_amount: int | None = None
    metadata: Mapping[str, Any] | None = None
    received: int = 0
    completed: bool = False

    def is_open(self, now: dt.datetime) -> bool:
        return not self.completed and now < self.expires_at

    def public_json(self, auth_server: str) -> dict[str, Any]:
        """What an unauthenticated GET shows (``public-incoming-payment``)."""
        return {"receivedAmount": self._amount(self.received), "authServer": auth_server}

    def _amount(self, value: int) -> dict[str, object]:
        return {
            "value": str(value),
            "assetCode": self.wallet.asset_code,
            "assetScale": self.wallet.asset_scale,
        }

    def to_json(self, now: dt.datetime, *, with_methods: bool = True) -> dict[str, Any]:
        """The ``incoming-payment-with-methods`` object (``methods`` empty once closed)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "walletAddress": self.wallet.id,
            "completed": self.completed,
            "receivedAmount": self._amount(self.received),
            "expiresAt": format_timestamp(self.expires_at),
            "createdAt": format_timestamp(self.created_at),
        }
        if self.incoming_amount is not None:
            doc["incomingAmount"] = self._amount(self.incoming_amount)
        if self.metadata is not None:
            doc["metadata"] = dict(self.metadata)
        if with_methods:
            doc["methods"] = (
                [
                    {
                        "type": "ilp",
                        "ilpAddress": self.ilp_address,
                        "sharedSecret": base64url(self.shared_secret),
                    }
                ]
                if self.is_open(now)
                else []
            )
        return doc


def base64url(data: bytes) -> str:
    """Rafiki's encoding of shared secrets: base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OpenPaymentsLedger:
    """Wallets, grants and incoming payments, and the crediting ILP handler."""

    def __init__(
        self,
        backend: ReceiverBackend,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        access_token_lifetime: dt.timedelta = ACCESS_TOKEN_LIFETIME,
        grant_wait: int = GRANT_WAIT_SECONDS,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.access_token_lifetime = access_token_lifetime
        self.grant_wait = grant_wait
        self.wallets: dict[str, SandboxWallet] = {}  # by id (URL)
        self.client_keys: dict[str, dict[str, Ed25519PublicKey]] = {}  # wallet id -> kid -> key
        self.client_jwks: dict[str, dict[str, dict[str, Any]]] = {}  # the same, as JWKs
        self.grants: dict[str, SandboxGrant] = {}
        self.payments: dict[str, SandboxIncomingPayment] = {}
        self._by_address: dict[str, SandboxIncomingPayment] = {}

    # -- wallets and grants ---------------------------------------------------------------

    def add_wallet(self, wallet: SandboxWallet) -> None:
        self.wallets[wallet.id] = wallet

    def register_client_key(self, wallet_id: str, jwk: Mapping[str, Any]) -> None:
        """A public key (JWK) the wallet's owner added at the wallet, for a client that
        identifies as this wallet (served at ``<wallet>/jwks.json``).

        Raises:
            InvalidJwkError: not an Ed25519 public JWK with a ``kid``.
        """
        kid, key = public_key_from_jwk(jwk)
        self.client_keys.setdefault(wallet_id, {})[kid] = key
        self.client_jwks.setdefault(wallet_id, {})[kid] = dict(jwk)

    def keys_for(self, grant: SandboxGrant) -> dict[str, Ed25519PublicKey]:
        """The keys that may sign for ``grant``: its client wallet's registered keys now, or
        the JWK it was requested with."""
        if grant.client_wallet is not None:
            return dict(self.client_keys.get(grant.client_wallet, {}))
        return {grant.kid: grant.key} if grant.key is not None else {}

    def issue_grant(
        self,
        *,
        kid: str,
        key: Ed25519PublicKey | None,
        wallet_id: str,
        access: list[dict[str, Any]],
        client_wallet: str | None = None,
    ) -> SandboxGrant:
        """A grant that needs no interaction, with its access token."""
        grant = self._new_grant(kid, key, wallet_id, access, client_wallet)
        self.issue_token(grant)
        return grant

    def request_interactive_grant(
        self,
        *,
        client_wallet: str,
        access: list[dict[str, Any]],
        finish_uri: str | None,
        client_nonce: str | None,
    ) -> SandboxGrant:
        """A pending grant waiting for the user's consent."""
        wallet_id = next(
            (str(a["identifier"]) for a in access if a.get("type") == "outgoing-payment"), ""
        )
        grant = self._new_grant("", None, wallet_id, access, client_wallet)
        grant.state = GrantState.PENDING
        grant.token_active = False
        grant.interaction = Interaction(
            id=uuid.uuid4().hex,
            nonce=secrets.token_urlsafe(16),
            finish_uri=finish_uri,
            client_nonce=client_nonce,
        )
        return grant

    def _new_grant(
        self,
        kid: str,
        key: Ed25519PublicKey | None,
        wallet_id: str,
        access: list[dict[str, Any]],
        client_wallet: str | None,
    ) -> SandboxGrant:
        now = self.clock()
        grant = SandboxGrant(
            id=uuid.uuid4().hex,
            access_token=Secret(secrets.token_urlsafe(24)),
            continue_token=Secret(secrets.token_urlsafe(24)),
            kid=kid,
            key=key,
            wallet_id=wallet_id,
            actions=frozenset(a for item in access for a in item.get("actions", ())),
            expires_at=now,
            access=access,
            client_wallet=client_wallet,
            last_continued_at=now,
        )
        self.grants[grant.id] = grant
        return grant

    def issue_token(self, grant: SandboxGrant) -> None:
        """A new access token (and management id) for ``grant``; the previous one stops."""
        grant.access_token = Secret(secrets.token_urlsafe(24))
        grant.token_id = uuid.uuid4().hex
        grant.token_active = True
        grant.expires_at = self.clock() + self.access_token_lifetime
        grant.state = GrantState.ISSUED

    def interaction(self, interaction_id: str, nonce: str) -> SandboxGrant | None:
        for grant in self.grants.values():
            found = grant.interaction
            if found is not None and found.id == interaction_id:
                same = hmac.compare_digest(found.nonce.encode(), nonce.encode())
                return grant if same else None
        return None

    def decide(self, grant: SandboxGrant, accepted: bool) -> Interaction:
        """The user's answer at the consent page."""
        assert grant.interaction is not None and grant.state is GrantState.PENDING
        grant.state = GrantState.APPROVED if accepted else GrantState.REJECTED
        grant.interaction.ref = str(uuid.uuid4())
        return grant.interaction

    def grant_for_token(self, token: str) -> SandboxGrant | None:
        """The grant whose access token is ``token`` while that token works (compared in
        constant time): issued, not revoked, not rotated away, not expired."""
        found = None
        for grant in self.grants.values():
            if hmac.compare_digest(grant.access_token.reveal().encode(), token.encode()):
                found = grant
        if found is None or found.revoked or not found.token_active:
            return None
        if found.state is not GrantState.ISSUED or self.clock() >= found.expires_at:
            return None
        return found

    def grant_for_manage(self, token_id: str) -> SandboxGrant | None:
        """The grant whose current token is managed at ``/auth/token/<token_id>`` (an expired
        token may still be rotated; a revoked or rotated one is unknown)."""
        for grant in self.grants.values():
            if grant.token_id == token_id and grant.token_active and not grant.revoked:
                return grant
        return None

    def grant_for_continue(self, grant_id: str, token: str) -> SandboxGrant | None:
        grant = self.grants.get(grant_id)
        if grant is None or grant.revoked:
            return None
        if not hmac.compare_digest(grant.continue_token.reveal().encode(), token.encode()):
            return None
        return grant

    def revoke_grant(self, grant: SandboxGrant) -> None:
        grant.revoked = True
        grant.token_active = False
        grant.state = GrantState.REVOKED

    # -- incoming payments ----------------------------------------------------------------

    async def create_incoming_payment(
        self,
        *,
        payment_id: str,
        wallet: SandboxWallet,
        grant: SandboxGrant,
        expires_at: dt.datetime | None,
        incoming_amount: int | None,
        metadata: Mapping[str, Any] | None,
    ) -> SandboxIncomingPayment:
        now = self.clock()
        latest = now + MAX_INCOMING_PAYMENT_LIFETIME
        tag = payment_id.rsplit("/", 1)[-1]
        address, secret = await self.backend.credentials(tag)
        payment = SandboxIncomingPayment(
            id=payment_id,
            wallet=wallet,
            grant_id=grant.id,
            ilp_address=address,
            shared_secret=secret,
            created_at=now,
            expires_at=min(expires_at or latest, latest),
            incoming_amount=incoming_amount,
            metadata=metadata,
        )
        self.payments[payment.id] = payment
        self._by_address[address] = payment
        return payment

    async def fresh_credentials(self, payment: SandboxIncomingPayment) -> tuple[str, bytes]:
        """New STREAM credentials for ``payment`` (as Rafiki hands out on every GET), credited
        to it like its first ones: each outgoing payment opens its own connection."""
        tag = payment.id.rsplit("/", 1)[-1]
        address, secret = await self.backend.credentials(tag)
        self._by_address[address] = payment
        return address, secret

    def complete(self, payment: SandboxIncomingPayment) -> None:
        payment.completed = True

    # -- the ILP side ---------------------------------------------------------------------

    async def handle_prepare(self, prepare: Prepare) -> Fulfill | Reject:
        """The sandbox account's incoming handler: gate, forward to the receiver, credit."""
        payment = self._by_address.get(prepare.destination)
        if payment is None:
            return await self.backend.handle(prepare)
        now = self.clock()
        if not payment.is_open(now):
            return Reject(ErrorCode.F99_APPLICATION_ERROR, "", "incoming payment is closed", b"")
        reply = await self.backend.handle(prepare)
        if isinstance(reply, Fulfill):
            payment.received += prepare.amount
            if payment.incoming_amount is not None and payment.received >= payment.incoming_amount:
                payment.completed = True
        return reply
