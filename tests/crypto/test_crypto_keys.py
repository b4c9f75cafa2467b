"""Key file handling and key derivation."""

from __future__ import annotations

import json
import stat
import warnings
from pathlib import Path

import pytest

from lianfang.crypto import (
    KEY_FILE_FORMAT,
    KeyFileError,
    KeyFilePermissionWarning,
    KeyRing,
    UnknownKeyVersionError,
    add_key_version,
    create_key_file,
    hmac_sm3,
    load_key_file,
)

MASTER_1 = bytes(range(32))
MASTER_2 = bytes(range(32, 64))


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return path


def _doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "format": KEY_FILE_FORMAT,
        "current": 1,
        "keys": {"1": MASTER_1.hex()},
    }
    doc.update(overrides)
    return doc


def test_create_then_load(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "lianfang" / "master.key"  # parents do not exist yet
    ring = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.current == 1 and len(ring.masters[1]) == 32
    assert load_key_file(path) == ring
    doc = json.loads(path.read_text())
    assert doc == {"format": KEY_FILE_FORMAT, "current": 1, "keys": {"1": ring.masters[1].hex()}}
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp files left


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    ring = create_key_file(path)
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_key_file(path)
    assert load_key_file(path) == ring


def test_created_keys_are_random(tmp_path: Path) -> None:
    assert create_key_file(tmp_path / "a") != create_key_file(tmp_path / "b")


def test_rotation_keeps_old_versions(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = create_key_file(path)
    second = add_key_version(path)
    assert second.current == 2
    assert second.masters[1] == first.masters[1]
    assert second.masters[2] != first.masters[1]
    assert load_key_file(path) == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert add_key_version(path).current == 3


def test_rotation_of_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        add_key_version(tmp_path / "missing.key")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "format"),
        (json.dumps(_doc(format="lianfang-master-key/2")), "format"),
        (json.dumps(_doc(keys={})), "non-empty"),
        (json.dumps(_doc(keys={"1": MASTER_1.hex()[:-2]})), "64 hex chars"),
        (json.dumps(_doc(keys={"1": "zz" * 32})), "64 hex chars"),
        (json.dumps(_doc(keys={"1": 12})), "64 hex chars"),
        (json.dumps(_doc(keys={"01": MASTER_1.hex()})), "bad key version"),
        (json.dumps(_doc(keys={"0": MASTER_1.hex()}, current=0)), "bad key version"),
        (json.dumps(_doc(keys={"70000": MASTER_1.hex()})), "bad key version"),
        (json.dumps(_doc(current=2)), "'current'"),
        (json.dumps(_doc(current=True)), "'current'"),
        (json.dumps(_doc(current="1")), "'current'"),
        (
            json.dumps(_doc(keys={"1": MASTER_1.hex(), "2": MASTER_2.hex()})).replace('"2"', '"1"'),
            "duplicate",
        ),
    ],
)
def test_load_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=message) as info:
        load_key_file(path)
    assert MASTER_1.hex() not in str(info.value)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_key_file(tmp_path / "nope.key")


def test_load_warns_on_group_readable_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "master.key", _doc())
    path.chmod(0o644)
    with pytest.warns(KeyFilePermissionWarning, match="chmod 600"):
        ring = load_key_file(path)
    assert ring.masters[1] == MASTER_1
    path.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_key_file(path)


def test_keyring_repr_hides_keys() -> None:
    ring = KeyRing(current=1, masters={1: MASTER_1})
    assert MASTER_1.hex() not in repr(ring) and repr(MASTER_1) not in repr(ring)


def test_keyring_validation() -> None:
    with pytest.raises(ValueError):
        KeyRing(current=2, masters={1: MASTER_1})
    with pytest.raises(ValueError):
        KeyRing(current=1, masters={1: MASTER_1[:16]})
    with pytest.raises(ValueError):
        KeyRing(current=0, masters={0: MASTER_1})


def test_keyring_snapshots_masters() -> None:
    masters = {1: MASTER_1}
    ring = KeyRing(current=1, masters=masters)
    masters[1] = MASTER_2
    assert ring.masters[1] == MASTER_1


def test_derive_is_hkdf_sm3() -> None:
    # RFC 5869 by hand: salt=None means a zero salt of hash length.
    ring = KeyRing(current=1, masters={1: MASTER_1})
    prk = hmac_sm3(bytes(32), MASTER_1)
    expected = hmac_sm3(prk, b"lianfang/field:name" + b"\x01")[:16]
    assert ring.derive("field:name") == expected


def test_derive_separates_purposes_and_versions() -> None:
    ring = KeyRing(current=2, masters={1: MASTER_1, 2: MASTER_2})
    keys = {
        ring.derive("field:name", 1),
        ring.derive("field:name", 2),
        ring.derive("field:phone", 2),
        ring.derive("bidx:name", 2),
    }
    assert len(keys) == 4
    assert all(len(k) == 16 for k in keys)
    assert ring.derive("field:name") == ring.derive("field:name", 2)  # default is current
    assert ring.derive("field:name") is ring.derive("field:name")  # cached


def test_derive_unknown_version() -> None:
    ring = KeyRing(current=1, masters={1: MASTER_1})
    with pytest.raises(UnknownKeyVersionError):
        ring.derive("field:name", 7)
    with pytest.raises(ValueError):
        ring.derive("")
