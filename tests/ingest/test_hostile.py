"""Hostile files are refused whole, with a reason, storing nothing — through the pipeline."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lianfang.ingest.mapping import Mapping, load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.settings import Settings

XML_MAPPING = """
mapping: test.xml.rk
version: 1
city: "360300"
system: XML-RK
source: {format: xml, encoding: utf-8, record_tag: Record}
feeds:
  - category: person
    match: "rk*.xml"
    fields: {citizen_id: SFZH, name: XM}
"""

XLSX_MAPPING = """
mapping: test.xlsx.rk
version: 1
city: "360300"
system: XLSX-RK
source: {format: xlsx}
feeds:
  - category: person
    match: "rk*.xlsx"
    fields: {citizen_id: SFZH, name: XM}
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Records><Record><SFZH>&lol3;</SFZH><XM>x</XM></Record></Records>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Records><Record><SFZH>&xxe;</SFZH><XM>x</XM></Record></Records>
"""


@pytest.fixture
def hostile(platform: Platform, tmp_path: Path) -> Ingestor:
    mappings: list[Mapping] = []
    for name, text in (("x.yaml", XML_MAPPING), ("s.yaml", XLSX_MAPPING)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        mappings.append(load_mapping(tmp_path / name, platform.standard))
    settings = Settings(
        **{
            **platform.settings.model_dump(),
            "max_file_bytes": 64 * 1024,
            "max_xlsx_uncompressed_bytes": 4 * 1024 * 1024,
        }
    )
    return Ingestor(
        engine=platform.engine,
        standard=platform.standard,
        keyring=platform.keyring,
        settings=settings,
        mappings=mappings,
    )


def _stored(ing: Ingestor) -> int:
    """Records and quarantine entries stored; a refused file leaves only its own status row."""
    with ing.engine.connect() as conn:
        files = ing.table("ingest_file")
        assert set(conn.execute(select(files.c.status)).scalars()) <= {"refused"}
        return sum(
            int(conn.execute(select(func.count()).select_from(ing.table(t))).scalar_one())
            for t in ("rec_person", "quarantine")
        )


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return path


CASES = {
    "billion laughs": ("rk_bomb.xml", lambda p: p.write_text(BILLION_LAUGHS), "xml_entities"),
    "external entity": ("rk_xxe.xml", lambda p: p.write_text(EXTERNAL_ENTITY), "xml_entities"),
    "malformed xml": ("rk_bad.xml", lambda p: p.write_text("<Records><Record><XM>x</Record>"), "xml_malformed"),
    "zip bomb": ("rk_bomb.xlsx", _zip_bomb, "zip_bomb"),
    "not a zip": ("rk_fake.xlsx", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip" * 10), "not_xlsx"),
    "too large": (
        "rk_big.xml",
        lambda p: p.write_text("<Records>" + "<Record><XM>x</XM></Record>" * 5000 + "</Records>"),
        "too_large",
    ),
    "binary garbage": ("rk_noise.xml", lambda p: p.write_bytes(bytes(range(256)) * 40), "binary_garbage"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_safely(hostile: Ingestor, tmp_path: Path, case: str) -> None:
    name, make, reason = CASES[case]
    path = tmp_path / name
    make(path)
    result = hostile.ingest([path]).files[0]
    assert (result.status, result.reason) == ("refused", reason), result.as_dict()
    assert "root:" not in (result.error or "")  # nothing from /etc/passwd leaks into messages
    assert _stored(hostile) == 0


def test_symlink_is_refused(hostile: Ingestor, tmp_path: Path) -> None:
    target = tmp_path / "real.xml"
    target.write_text("<Records/>")
    link = tmp_path / "rk_link.xml"
    os.symlink(target, link)
    result = hostile.ingest([link]).files[0]
    assert (result.status, result.reason) == ("refused", "not_a_regular_file")


def test_path_with_parent_component_is_refused(hostile: Ingestor, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "rk_ok.xml").write_text("<Records/>")
    result = hostile.ingest([tmp_path / "sub" / ".." / "rk_ok.xml"]).files[0]
    assert (result.status, result.reason) == ("refused", "path_unsafe")
