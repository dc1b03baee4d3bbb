"""Where a connected Open Payments wallet is kept: the secrets in the keyring, the rest a setting.

Two records:

* :class:`WalletInfo` — the wallet address, its asset and servers, the client key's ``kid``, the
  grant's budget and interval, the active funding source. Nothing secret: a setting in SQLite
  (``funding``), shown on the Account page.
* :class:`GrantSecrets` — the grant's access token, its ``manage`` URI and expiry, the continue
  token and URI, and the client's Ed25519 private key (its 32-byte seed). In the secret store
  only (the OS keyring in the app), under :data:`KEY_SECRET` and :data:`GRANT_SECRET`; the
  tokens are rotated in place.

Invariants: a value read from the keyring stays a :class:`~wallet.secrets.Secret` until the
request that needs it; no error here names a value; "Disconnect" removes both records.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.openpayments.signing import ClientKey
from wallet.secrets import Secret, SecretStore, SecretStoreError

__all__ = [
    "FUNDING_SETTING",
    "GRANT_SECRET",
    "KEY_SECRET",
    "FundingSource",
    "FundingStore",
    "GrantSecrets",
    "StoredKey",
    "WalletInfo",
]

FUNDING_SETTING = "funding"
KEY_SECRET = "open-payments:client-key"  # noqa: S105 (a name, not a value)
GRANT_SECRET = "open-payments:grant"  # noqa: S105 (a name, not a value)


class FundingSource(enum.StrEnum):
    """Who pays ``<link rel="monetization">`` sites."""

    LOCAL = "local"  # the local ILP account (sandbox or uplink), STREAM packets
    OPEN_PAYMENTS = "open-payments"  # the user's own wallet, outgoing payments


class FundingStoreError(WalletError):
    """The connection's records cannot be read or written (the message names no secret)."""


class Settings(Protocol):
    """Where non-secret settings live (``WalletService`` fits)."""

    def setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class WalletInfo:
    """A connected wallet, as the user may see it."""

    address: str  # the wallet address's ``id``
    public_name: str | None
    asset: Asset
    auth_server: str
    resource_server: str
    kid: str
    budget: int  # ``limits.debitAmount`` in ``asset`` units
    interval: str | None  # ``limits.interval`` (``R/<start>/P1M``) or ``None``: once only
    connected_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "public_name": self.public_name,
            "asset": [self.asset.code, self.asset.scale],
            "auth_server": self.auth_server,
            "resource_server": self.resource_server,
            "kid": self.kid,
            "budget": str(self.budget),
            "interval": self.interval,
            "connected_at": self.connected_at.isoformat(),
        }

    @classmethod
    def from_json(cls, doc: Any) -> WalletInfo:
        try:
            code, scale = doc["asset"]
            return cls(
                address=str(doc["address"]),
                public_name=None if doc.get("public_name") is None else str(doc["public_name"]),
                asset=Asset(str(code), int(scale)),
                auth_server=str(doc["auth_server"]),
                resource_server=str(doc["resource_server"]),
                kid=str(doc["kid"]),
                budget=int(doc["budget"]),
                interval=None if doc.get("interval") is None else str(doc["interval"]),
                connected_at=dt.datetime.fromisoformat(str(doc["connected_at"])),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise FundingStoreError("the connected wallet's setting is damaged") from e


@dataclass(frozen=True)
class GrantSecrets:
    """The grant's tokens and where to use them. ``repr`` shows no token."""

    access_token: Secret = field(repr=False)
    manage_uri: str
    expires_at: dt.datetime | None
    continue_token: Secret = field(repr=False)
    continue_uri: str

    def rotated(
        self, access_token: Secret, manage_uri: str, expires_at: dt.datetime | None
    ) -> GrantSecrets:
        return replace(
            self, access_token=access_token, manage_uri=manage_uri, expires_at=expires_at
        )

    def _to_secret(self) -> Secret:
        return Secret(
            json.dumps(
                {
                    "access_token": self.access_token.reveal(),
                    "manage": self.manage_uri,
                    "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
                    "continue_token": self.continue_token.reveal(),
                    "continue": self.continue_uri,
                }
            )
        )

    @classmethod
    def _from_secret(cls, secret: Secret) -> GrantSecrets:
        try:
            doc = json.loads(secret.reveal())
            expires = doc.get("expires_at")
            return cls(
                access_token=Secret(str(doc["access_token"])),
                manage_uri=str(doc["manage"]),
                expires_at=None if expires is None else dt.datetime.fromisoformat(str(expires)),
                continue_token=Secret(str(doc["continue_token"])),
                continue_uri=str(doc["continue"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            # no ``from e``: the decoder's message may quote the value
            raise FundingStoreError("the wallet's grant in the keyring is damaged") from None


@dataclass(frozen=True)
class StoredKey:
    """The client's Ed25519 key as the keyring keeps it: ``kid`` and the seed (a Secret)."""

    kid: str
    seed: Secret = field(repr=False)

    @classmethod
    def generate(cls, kid: str) -> StoredKey:
        raw = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(kid, Secret(base64.b64encode(raw).decode()))

    def client_key(self) -> ClientKey:
        try:
            seed = base64.b64decode(self.seed.reveal(), validate=True)
            return ClientKey.from_seed(seed, self.kid)
        except ValueError:
            raise FundingStoreError("the wallet's key in the keyring is damaged") from None


class FundingStore:
    """Reads and writes the records above (thread-safe as its two stores are)."""

    def __init__(self, settings: Settings, secrets: SecretStore | None) -> None:
        self._settings = settings
        self._secrets = secrets

    # -- the setting --

    def _doc(self) -> dict[str, Any]:
        doc = self._settings.setting(FUNDING_SETTING, {}) or {}
        return dict(doc) if isinstance(doc, dict) else {}

    def source(self) -> FundingSource:
        """The active funding source (the local account unless a wallet is connected and
        chosen)."""
        doc = self._doc()
        try:
            source = FundingSource(doc.get("source", FundingSource.LOCAL))
        except ValueError:
            return FundingSource.LOCAL
        if source is FundingSource.OPEN_PAYMENTS and doc.get("wallet") is None:
            return FundingSource.LOCAL
        return source

    def set_source(self, source: FundingSource) -> None:
        doc = self._doc()
        doc["source"] = source.value
        self._settings.set_setting(FUNDING_SETTING, doc)

    def wallet(self) -> WalletInfo | None:
        raw = self._doc().get("wallet")
        return None if raw is None else WalletInfo.from_json(raw)

    def save_wallet(self, info: WalletInfo) -> None:
        doc = self._doc()
        doc["wallet"] = info.to_json()
        self._settings.set_setting(FUNDING_SETTING, doc)

    # -- the secrets --

    def _store(self) -> SecretStore:
        if self._secrets is None:
            raise FundingStoreError(
                "No secure keyring is available: Trickle cannot keep a wallet's keys and tokens."
            )
        return self._secrets

    def save_key(self, key: StoredKey) -> None:
        self._set(KEY_SECRET, Secret(json.dumps({"kid": key.kid, "seed": key.seed.reveal()})))

    def key(self) -> StoredKey | None:
        secret = self._get(KEY_SECRET)
        if secret is None:
            return None
        try:
            doc = json.loads(secret.reveal())
            return StoredKey(str(doc["kid"]), Secret(str(doc["seed"])))
        except (KeyError, TypeError, ValueError):
            raise FundingStoreError("the wallet's key in the keyring is damaged") from None

    def save_grant(self, grant: GrantSecrets) -> None:
        self._set(GRANT_SECRET, grant._to_secret())

    def grant(self) -> GrantSecrets | None:
        secret = self._get(GRANT_SECRET)
        return None if secret is None else GrantSecrets._from_secret(secret)

    def forget(self) -> None:
        """Disconnect: the key, the grant and the wallet's setting go; the local account pays."""
        store = self._store()
        for name in (GRANT_SECRET, KEY_SECRET):
            try:
                store.delete(name)
            except SecretStoreError as e:
                raise FundingStoreError(f"the keyring refused to forget the wallet: {e}") from e
        self._settings.set_setting(FUNDING_SETTING, {"source": FundingSource.LOCAL.value})

    def _set(self, name: str, secret: Secret) -> None:
        try:
            self._store().set(name, secret)
        except SecretStoreError as e:
            raise FundingStoreError(f"the keyring refused to store the wallet's {name}: {e}") from e

    def _get(self, name: str) -> Secret | None:
        try:
            return self._store().get(name)
        except SecretStoreError as e:
            raise FundingStoreError(f"the keyring cannot be read ({name}): {e}") from e
