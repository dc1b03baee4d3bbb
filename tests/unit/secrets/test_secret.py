"""The Secret value type and the log redaction filter."""

from __future__ import annotations

import copy
import gc
import logging
import pickle
from pathlib import Path

import pytest

from wallet.secrets import MemorySecretStore, RedactingFilter, Secret, install_redaction, redact
from wallet.secrets.secret import live_secret_values


def test_repr_str_format_hide_the_value() -> None:
    s = Secret("hunter2-token")
    assert repr(s) == "Secret('***')"
    assert str(s) == "***"
    assert f"{s}" == "***"
    assert f"{s:>20}" == "***"
    assert "%s %r" % (s, s) == "*** Secret('***')"  # noqa: UP031 - old-style formatting on purpose
    assert "hunter2" not in repr([s, {"k": s}])
    assert s.reveal() == "hunter2-token"


def test_equality_is_by_value_and_unhashable() -> None:
    assert Secret("abc") == Secret("abc")
    assert Secret("abc") != Secret("abd")
    assert Secret("abc") != "abc"  # never equal to the bare string
    assert Secret("é-unicode") == Secret("é-unicode")
    with pytest.raises(TypeError):
        hash(Secret("abc"))
    with pytest.raises(TypeError):
        {Secret("abc")}


def test_not_picklable_immutable_copy_is_same() -> None:
    s = Secret("abc")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)
    with pytest.raises(AttributeError):
        s._value = "x"
    with pytest.raises(AttributeError):
        s.other = 1
    assert copy.copy(s) is s
    assert copy.deepcopy({"a": s})["a"] is s
    assert not hasattr(s, "__dict__")


def test_rejects_empty_and_non_str() -> None:
    with pytest.raises(ValueError):
        Secret("")
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_registry_forgets_dead_secrets() -> None:
    s = Secret("short-lived-secret-value")
    assert "short-lived-secret-value" in live_secret_values()
    del s
    gc.collect()
    assert "short-lived-secret-value" not in live_secret_values()


def test_redact_longest_first_and_extra() -> None:
    keep = [Secret("abcdef"), Secret("abc")]
    assert redact("x abcdef y abc z") == "x *** y *** z"
    assert redact("zz-other", extra=["other"]) == "zz-***"
    assert keep


def test_memory_store() -> None:
    store = MemorySecretStore()
    assert store.get("uplink-token:p1") is None
    store.set("uplink-token:p1", Secret("t1"))
    assert store.get("uplink-token:p1") == Secret("t1")
    store.delete("uplink-token:p1")
    store.delete("uplink-token:p1")
    assert store.get("uplink-token:p1") is None
    assert "t1" not in repr(store)


def _file_logger(tmp_path: Path, name: str) -> tuple[logging.Logger, Path, logging.Handler]:
    path = tmp_path / f"{name}.log"
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    return logger, path, handler


def test_redaction_filter_scrubs_every_part_of_a_record(tmp_path: Path) -> None:
    value = "LOG-CANARY-5d1f0c"
    secret = Secret(value)
    logger, path, handler = _file_logger(tmp_path, "trickle-test-redaction")
    try:
        flt = install_redaction(logger)
        assert install_redaction(logger) is flt  # idempotent
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        child = logging.getLogger("trickle-test-redaction.child")

        logger.info("args %s", secret.reveal())
        logger.info(f"f-string {secret.reveal()}")
        child.warning("propagated from a child: %s", secret.reveal())
        logger.info("dict arg %(t)s", {"t": secret.reveal()})
        logger.info("bad format %d", secret.reveal())  # would go to handleError with the args
        try:
            raise RuntimeError(f"upstream echoed {secret.reveal()}")
        except RuntimeError:
            logger.exception("failure")
        logger.info("plain %s %r", secret, secret)
        handler.flush()
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text(encoding="utf-8")
    assert value not in text
    assert text.count("***") >= 7
    assert "propagated from a child: ***" in text
    assert "RuntimeError: upstream echoed ***" in text
    assert "[log arguments could not be formatted]" in text
