"""Whole-file checks shared by the readers: path, file type, size, binary content,
encodings, and hardened XML well-formedness (xlsx archives: see ``archive``).

Nothing here puts file content into a message: positions, sizes and reasons only.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NoReturn
from xml.parsers import expat

from lianfang.ingest.readers.base import HostileInput, Limits

SAMPLE_BYTES = 64 * 1024
MAX_CONTROL_SHARE = 0.05
READ_BUFFER = 256 * 1024

# C0 controls except TAB, LF, FF, CR; and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def check_path(path: Path) -> None:
    """Refuse paths with control characters (NUL included) or a ``..`` component."""
    for part in path.parts:
        if part == "..":
            raise HostileInput("path_unsafe", "path has a '..' component")
        if _CONTROL_CHARS.search(part):
            raise HostileInput("path_unsafe", "path contains a NUL or control character")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_stat(st: os.stat_result, limits: Limits) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise HostileInput("not_a_regular_file", f"path is {_kind(st.st_mode)}")
    if st.st_size > limits.max_file_bytes:
        raise HostileInput("too_large", f"file is {st.st_size} bytes, limit is {limits.max_file_bytes}")


def check_file(path: Path, limits: Limits) -> None:
    """Raise :class:`HostileInput` unless ``path`` names a regular file within limits.

    Symbolic links are refused (not followed). A missing file raises ``FileNotFoundError``.
    """
    check_path(path)
    _check_stat(os.lstat(path), limits)


def safe_open(path: Path, limits: Limits) -> IO[bytes]:
    """Open for binary reading without following a symlink or blocking on a FIFO,
    then re-check the opened file itself (closes the race with :func:`check_file`)."""
    check_path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise HostileInput("not_a_regular_file", "path is a symbolic link") from exc
        raise
    try:
        _check_stat(os.fstat(fd), limits)
        os.set_blocking(fd, True)
        return open(fd, "rb", buffering=READ_BUFFER)  # the caller closes it
    except BaseException:
        os.close(fd)
        raise


def check_text_sample(f: IO[bytes]) -> None:
    """Refuse binary content at the start of a text-format file; rewinds ``f``."""
    sample = f.read(SAMPLE_BYTES)
    f.seek(0)
    if not sample:
        return
    nul = sample.find(b"\x00")
    if nul >= 0:
        hint = " (UTF-16/32 text is not supported)" if sample[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise HostileInput("binary_garbage", f"NUL byte at offset {nul}{hint}")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > MAX_CONTROL_SHARE * len(sample):
        raise HostileInput(
            "binary_garbage",
            f"{controls} control bytes in the first {len(sample)} bytes (binary file?)",
        )


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name; refuse unknown or non-ASCII-compatible ones.

    Readers split lines on the byte ``\\n`` and look for ASCII delimiters, so the
    encoding must keep ASCII as single bytes (UTF-8, GBK, GB18030, Big5, Latin-1 ...).
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise HostileInput("encoding_unknown", f"unknown encoding {encoding[:40]!r}") from None
    name = "utf-8" if info.name in ("utf-8", "utf-8-sig") else info.name
    probe = "\n\r\t ,;|\"'<>{}[]:azAZ09"
    try:
        ok = probe.encode(name) == probe.encode("ascii")
    except (UnicodeError, LookupError, TypeError):
        ok = False
    if not ok:
        raise HostileInput("encoding_unknown", f"encoding {name!r} is not an ASCII-compatible text encoding")
    return name


# --------------------------------------------------------------------------- XML


def _forbid_dtd(*_args: object) -> NoReturn:
    raise HostileInput("xml_entities", "DOCTYPE/entity declarations are not accepted")


def _hardened_expat() -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_dtd
    parser.UnparsedEntityDeclHandler = _forbid_dtd
    parser.ExternalEntityRefHandler = _forbid_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def check_xml_stream(chunks: Iterable[str | bytes], what: str = "XML") -> None:
    """Parse ``chunks`` with a hardened expat (no DTD, no entities) and no tree.

    Raises ``xml_entities`` for any DOCTYPE/entity declaration and ``xml_malformed``
    (with line and column) for anything not well-formed. Fast: no Python callbacks.
    """
    parser = _hardened_expat()
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise HostileInput(
            "xml_malformed",
            f"{what} not well-formed at line {exc.lineno}, column {exc.offset + 1}: {expat.ErrorString(exc.code)}",
        ) from None
