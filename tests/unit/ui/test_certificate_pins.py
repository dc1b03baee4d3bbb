"""Which certificate errors the pins accept: exactly the pinned certificate (DER) at exactly the
pinned https host and port, when the only fault is its untrusted issuer — and nothing once it
is unpinned. The sandbox's real certificates (made as the sandbox makes them) stand in."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineCertificateError

from ui.browser.certificates import CertificatePins, PinError
from wallet.sandbox.tls import certificate_der, sandbox_certificate

Type = QWebEngineCertificateError.Type
UNTRUSTED = Type.CertificateAuthorityInvalid


def made(tmp: Path) -> bytes:
    tmp.mkdir()
    _context, cert_file = sandbox_certificate(tmp)
    return certificate_der(cert_file)


def test_only_the_pinned_certificate_at_the_pinned_origin(tmp_path: Path) -> None:
    sandbox, lookalike = made(tmp_path / "a"), made(tmp_path / "b")
    pins = CertificatePins()
    unpin = pins.pin("https://127.0.0.1:4443", sandbox)
    assert pins.vouches(QUrl("https://127.0.0.1:4443/auth/interact/x/y"), UNTRUSTED, [sandbox])
    # the same certificate anywhere else
    assert not pins.vouches(QUrl("https://127.0.0.1:4444/"), UNTRUSTED, [sandbox])
    assert not pins.vouches(QUrl("https://localhost:4443/"), UNTRUSTED, [sandbox])
    assert not pins.vouches(QUrl("wss://127.0.0.1:4443/"), UNTRUSTED, [sandbox])
    # another certificate made the same way, at the pinned origin
    assert not pins.vouches(QUrl("https://127.0.0.1:4443/"), UNTRUSTED, [lookalike])
    assert not pins.vouches(QUrl("https://127.0.0.1:4443/"), UNTRUSTED, [lookalike, sandbox])
    assert not pins.vouches(QUrl("https://127.0.0.1:4443/"), UNTRUSTED, [])
    # anything wrong besides the issuer
    for fault in (
        Type.CertificateCommonNameInvalid,
        Type.CertificateDateInvalid,
        Type.CertificateRevoked,
    ):
        assert not pins.vouches(QUrl("https://127.0.0.1:4443/"), fault, [sandbox])
    unpin()
    assert not pins.vouches(QUrl("https://127.0.0.1:4443/"), UNTRUSTED, [sandbox])


def test_what_cannot_be_pinned_is_a_named_error(tmp_path: Path) -> None:
    pins = CertificatePins()
    der = made(tmp_path / "a")
    for origin in (
        "http://127.0.0.1:80",
        "https://127.0.0.1",
        "https://:443",
        "https://h:x",
        "https://h:1/path",
    ):
        with pytest.raises(PinError):
            pins.pin(origin, der)
    with pytest.raises(PinError):
        pins.pin("https://127.0.0.1:4443", b"")
