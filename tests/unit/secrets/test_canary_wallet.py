"""The canary, for a connected Open Payments wallet: its client key, access tokens (the first
and a rotated one) and continue token go through the real keyring and are used to pay; then
they are searched for everywhere — the wallet's SQLite file (where its details are a
setting), the log file, every error raised on the way, and the keyring's own files: zero hits.

Issue 19, "Secrets (tokens, keys) only in the keyring [...] the canary test covers them"."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gc
import logging
from pathlib import Path

import pytest

from tests.fixtures_keyring import SecretServiceSession
from tests.funding_support import funding_world
from tests.unit.secrets.test_canary import _encodings, _error_text
from wallet.funding import ConnectError
from wallet.secrets import KeyringSecretStore, install_redaction, open_secret_store


def test_a_connected_wallets_secrets_never_leak(
    secret_service: SecretServiceSession, tmp_path: Path
) -> None:
    gc.collect()
    log_file = tmp_path / "trickle.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("wallet")
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    install_redaction(root)
    errors: list[BaseException] = []
    secrets: list[str] = []

    async def main() -> None:
        store = open_secret_store()
        assert isinstance(store, KeyringSecretStore)
        async with funding_world(
            tmp_path, secrets=store, access_token_lifetime=dt.timedelta(minutes=5)
        ) as w:
            wallet = await w.connect(budget=10**12)
            key = w.funding.store.key()
            assert key is not None
            seed = key.seed.reveal()
            secrets.extend([seed, base64.b64decode(seed).hex()])
            secrets.extend(
                [wallet.grant.access_token.reveal(), wallet.grant.continue_token.reveal()]
            )
            w.clock.offset += dt.timedelta(minutes=6)  # the token expires: rotated on use
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 2)
            session.stop()
            await asyncio.wait_for(asyncio.shield(session.task), 30)
            secrets.append(wallet.grant.access_token.reveal())
            assert len(set(secrets)) == len(secrets)
            # mistakes someone could make while logging
            logging.getLogger("wallet.funding").debug("grant %r key %r", wallet.grant, key)
            # failure paths: their errors are searched too
            with pytest.raises(ConnectError) as refused:
                connecting = await w.funding.begin(w.wallet("bob"))
                await w.funding.request_grant(connecting, 10**9)  # key not added at bob's
            errors.append(refused.value)
            with pytest.raises(ConnectError) as not_wallet:
                await w.funding.begin("http://127.0.0.1/not-https")
            errors.append(not_wallet.value)
            await w.funding.disconnect()
            w.service.flush()

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    db = tmp_path / "wallet"
    haystacks: dict[str, bytes] = {
        p.name: p.read_bytes() for p in db.iterdir() if p.is_file() and "sqlite" in p.name
    }
    assert haystacks, "no SQLite file"  # (closed: its WAL was checkpointed into it)
    haystacks["log"] = log_file.read_bytes()
    for path in secret_service.files():
        haystacks[f"keyring:{path.name}"] = path.read_bytes()
    for i, err in enumerate(errors):
        haystacks[f"error {i} {type(err).__name__}"] = _error_text(err).encode()
    hits = [
        where
        for where, data in haystacks.items()
        for s in secrets
        for enc in _encodings(s)
        if enc in data
    ]
    assert hits == []
    # positive controls: the wallet's details are in SQLite, the log has the redacted line
    assert any(b"funding" in data for name, data in haystacks.items() if "sqlite" in name)
    assert "grant" in log_file.read_text(encoding="utf-8")
    assert any(k.startswith("keyring:") for k in haystacks)
