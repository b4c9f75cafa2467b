"""xlsx archive checks, made with ``zipfile`` before openpyxl parses anything.

The zip directory is sized up from its end record first, so a forged directory
claiming millions of members is refused before ``zipfile`` builds it in memory.
Member sizes come from the directory; ``zipfile`` never inflates a member beyond
its declared size, so the declared sizes bound what openpyxl can be fed.
"""

from __future__ import annotations

import zipfile
from functools import partial
from typing import IO

from lianfang.ingest.readers.base import HostileInput, Limits
from lianfang.ingest.readers.safety import READ_BUFFER, check_xml_stream

MAX_ZIP_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 16 * 1024 * 1024
#: The ratio limit applies to members bigger than this; tiny parts compress oddly well.
RATIO_FLOOR_BYTES = 1024 * 1024
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22


def _check_directory_size(f: IO[bytes]) -> None:
    """Read the zip's end-of-central-directory record the way ``zipfile`` finds it."""
    size = f.seek(0, 2)
    tail_size = min(size, _END_RECORD_SIZE + 65_535)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = len(tail) - _END_RECORD_SIZE
    if at < 0 or not (tail.startswith(_END_RECORD, at) and tail[-2:] == b"\0\0"):
        at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < _END_RECORD_SIZE:
        raise HostileInput("not_xlsx", "not a zip archive (no end-of-directory record)")
    members = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if members > MAX_ZIP_MEMBERS:  # 0xFFFF (zip64) included
        raise HostileInput("zip_bomb", f"archive has {members} members, limit is {MAX_ZIP_MEMBERS}")
    if directory > MAX_DIRECTORY_BYTES:
        raise HostileInput("zip_bomb", f"archive directory is {directory} bytes, limit is {MAX_DIRECTORY_BYTES}")


def _check_members(zf: zipfile.ZipFile, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise HostileInput("zip_bomb", f"archive has {len(infos)} members, limit is {MAX_ZIP_MEMBERS}")
    total = 0
    for index, info in enumerate(infos, 1):
        total += info.file_size
        packed = max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_xlsx_ratio * packed:
            raise HostileInput(
                "zip_bomb",
                f"member {index} compresses {info.file_size // packed}:1, limit is {limits.max_xlsx_ratio}:1",
            )
        if info.flag_bits & 0x1:
            raise HostileInput("not_xlsx", f"member {index} is encrypted")
    if total > limits.max_xlsx_uncompressed_bytes:
        raise HostileInput(
            "zip_bomb", f"archive expands to {total} bytes, limit is {limits.max_xlsx_uncompressed_bytes}"
        )
    if "[Content_Types].xml" not in zf.NameToInfo:
        raise HostileInput("not_xlsx", "zip archive is not an Office Open XML package")


def check_xlsx_archive(f: IO[bytes], limits: Limits) -> None:
    """Refuse a hostile or non-xlsx archive; rewinds ``f``.

    ``not_xlsx``: not a zip, no ``[Content_Types].xml``, encrypted or unreadable
    members. ``zip_bomb``: more than 10,000 members, a forged oversized directory,
    more than ``max_xlsx_uncompressed_bytes`` in all, or a member (over 1 MiB)
    compressed more than ``max_xlsx_ratio``:1. Then every XML part is parsed by the
    hardened expat: ``xml_entities`` for any DOCTYPE/entity, ``xml_malformed``.
    """
    try:
        _check_directory_size(f)
        f.seek(0)
        with zipfile.ZipFile(f) as zf:
            _check_members(zf, limits)
            for index, info in enumerate(zf.infolist(), 1):
                if info.filename.lower().endswith((".xml", ".rels")):
                    with zf.open(info) as member:
                        check_xml_stream(iter(partial(member.read, READ_BUFFER), b""), f"xlsx part {index}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise HostileInput("not_xlsx", f"not a readable xlsx (zip) file: {type(exc).__name__}") from None
    finally:
        f.seek(0)
