"""The master-key file: its format, creation, loading and rotation.

The master keys live in a key file on the application host, never in the
database: a database dump or backup alone must not be enough to read personal
fields.  This module owns that file; :mod:`lianfang.crypto.keyring` owns what is
done with the keys once loaded.

Key file (JSON, mode 0600)::

    {"format": "lianfang-master-key/1", "current": 1, "keys": {"1": "<64 hex chars>"}}

Rotation (:func:`add_key_version`) appends a version and makes it current; old
versions are never removed, because existing ciphertexts name the version they
were written under.  Processes that loaded the file earlier keep their old ring
until they reload it, and such a process cannot decrypt values written under the
new version: reload every reader before (or together with) the writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import warnings
from pathlib import Path

from lianfang.crypto.keyring import MASTER_KEY_BYTES, MAX_KEY_VERSION, KeyRing

__all__ = [
    "KEY_FILE_FORMAT",
    "KeyFileError",
    "KeyFileMissing",
    "KeyFilePermissionWarning",
    "KeyRing",
    "add_key_version",
    "create_key_file",
    "load_key_file",
]

KEY_FILE_FORMAT = "lianfang-master-key/1"
_VERSION_RE = re.compile(r"[1-9][0-9]{0,4}")
_KEY_RE = re.compile(rf"[0-9a-fA-F]{{{2 * MASTER_KEY_BYTES}}}")


class KeyFileError(Exception):
    """The key file is missing, malformed, or cannot be written."""


class KeyFileMissing(KeyFileError):
    """There is no key file at the configured path (``lianfang keys init`` creates one)."""


class KeyFilePermissionWarning(UserWarning):
    """The key file is readable by group or others."""


def create_key_file(path: Path) -> KeyRing:
    """Create a new key file with a single random version 1; never overwrites."""
    if path.exists():
        raise KeyFileError(f"key file already exists, refusing to overwrite: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = KeyRing(current=1, masters={1: secrets.token_bytes(MASTER_KEY_BYTES)})
    _write_atomically(path, ring, replace=False)
    return ring


def load_key_file(path: Path) -> KeyRing:
    """Load and validate a key file; every problem raises :class:`KeyFileError`."""
    try:
        with path.open("rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            raw = fh.read()
    except FileNotFoundError:
        raise KeyFileMissing(f"key file not found: {path}") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Warn rather than refuse: an operator fixing permissions should not take
        # the platform down, but the exposure must be visible.
        warnings.warn(
            f"key file {path} is accessible by group/others (mode {stat.S_IMODE(mode):o}); "
            "chmod 600 it",
            KeyFilePermissionWarning,
            stacklevel=2,
        )
    return _parse(path, raw)


def add_key_version(path: Path) -> KeyRing:
    """Rotate: append a new random master version to the key file and make it current."""
    if not path.is_file():
        raise KeyFileMissing(f"key file not found: {path}")
    # Serialise rotations: two racing read-modify-writes could silently drop a
    # version that already encrypted data, which would make that data unreadable.
    # The lock is a sidecar file because os.replace() swaps the key file's inode.
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        ring = load_key_file(path)
        new = max(ring.masters) + 1
        if new > MAX_KEY_VERSION:
            raise KeyFileError(f"key file {path} has no key versions left")
        masters = {**ring.masters, new: secrets.token_bytes(MASTER_KEY_BYTES)}
        rotated = KeyRing(current=new, masters=masters)
        _write_atomically(path, rotated, replace=True)
        return rotated


def _parse(path: Path, raw: bytes) -> KeyRing:
    # Messages name the file and the offending part, never key material.
    try:
        doc = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise KeyFileError(f"key file {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(f"key file {path} is not in format {KEY_FILE_FORMAT!r}")
    keys, current = doc.get("keys"), doc.get("current")
    if not isinstance(keys, dict) or not keys:
        raise KeyFileError(f"key file {path}: 'keys' must be a non-empty object")
    masters: dict[int, bytes] = {}
    for name, value in keys.items():
        # Canonical decimal only: "01" and "1" must not both name version 1.
        if not _VERSION_RE.fullmatch(name) or int(name) > MAX_KEY_VERSION:
            raise KeyFileError(f"key file {path}: bad key version {name!r}")
        if not isinstance(value, str) or not _KEY_RE.fullmatch(value):
            raise KeyFileError(
                f"key file {path}: key version {name} must be {2 * MASTER_KEY_BYTES} hex chars"
            )
        masters[int(name)] = bytes.fromhex(value)
    # bool is an int subclass; "current": true must not mean version 1.
    if type(current) is not int or current not in masters:
        raise KeyFileError(f"key file {path}: 'current' must name a version present in 'keys'")
    return KeyRing(current=current, masters=masters)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads silently keeps the last of duplicate names, which would drop a key version.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate names in a JSON object")
    return result


def _write_atomically(path: Path, ring: KeyRing, *, replace: bool) -> None:
    doc = {
        "format": KEY_FILE_FORMAT,
        "current": ring.current,
        "keys": {str(v): k.hex() for v, k in sorted(ring.masters.items())},
    }
    data = (json.dumps(doc, indent=2) + "\n").encode("ascii")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL + 0600 at creation: the secret is never on disk with wider permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # umask may have removed bits; be exact
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            # link() fails if the target appeared meanwhile: never clobber a key file.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyFileError(
                    f"key file already exists, refusing to overwrite: {path}"
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename/link itself durable
    finally:
        os.close(dir_fd)
