"""Fixtures for the secret-store tests: the real Secret Service from ``tests.fixtures_keyring``."""

from __future__ import annotations

from tests.fixtures_keyring import secret_service

__all__ = ["secret_service"]
