"""End-to-end tests run the real ``trickle`` program as a subprocess on a temporary profile."""

from tests.fixtures_keyring import secret_service  # noqa: F401  (registers the fixture)
