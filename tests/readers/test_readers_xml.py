"""XML reader: records with attributes, encodings, and refused DTD/entities/malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianfang.ingest.readers import HostileInput, Limits, RawRecord, ReaderSpec, open_reader

PERSON = ReaderSpec(format="xml", record_tag="Person")


def read(path: Path, spec: ReaderSpec = PERSON, limits: Limits = Limits()) -> list[RawRecord]:
    return list(open_reader(path, spec, limits))


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "data.xml"
    path.write_bytes(text.encode(encoding))
    return path


def test_records_with_attributes_and_children(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Export city="3301">\n'
        "  <Meta><Count>2</Count></Meta>\n"
        '  <Person id="1" type="resident">\n'
        "    <XM>张三</XM><GMSFHM>110101199003071234</GMSFHM><BZ/>\n"
        "  </Person>\n"
        '  <Person id="2"><XM>李四</XM><DH>1</DH><DH>2</DH>'
        '<ZZ><SHENG>浙江</SHENG></ZZ><ZP url="a.jpg"/></Person>\n'
        "</Export>\n",
    )
    records = read(path)
    assert [(r.position, r.locator) for r in records] == [(1, "record 1"), (2, "record 2")]
    assert records[0].fields == {
        "id": "1",
        "type": "resident",
        "XM": "张三",
        "GMSFHM": "110101199003071234",
        "BZ": None,
    }
    assert records[1].fields == {
        "id": "2",
        "XM": "李四",
        "DH": '["1","2"]',
        "ZZ": "<ZZ><SHENG>浙江</SHENG></ZZ>",
        "ZP@url": "a.jpg",
        "ZP": None,
    }
    assert records[0].raw.startswith(b'<Person id="1" type="resident">')
    assert records[0].raw.endswith(b"</Person>")
    assert all(r.problem is None for r in records)


def test_gbk_file_with_its_declaration_and_default_record_tag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '<?xml version="1.0" encoding="GBK"?><root><r a="甲"><XM>王五</XM></r><r><XM>赵六</XM></r></root>',
        "gbk",
    )
    records = read(path, ReaderSpec(format="xml", encoding="gbk"))
    assert [r.fields for r in records] == [{"a": "甲", "XM": "王五"}, {"XM": "赵六"}]


def test_namespaces_use_local_names_and_attribute_clash(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '<d xmlns="urn:x"><Person XM="attr"><XM>child</XM></Person></d>',
    )
    (record,) = read(path)
    assert record.fields == {"@XM": "attr", "XM": "child"}


def test_oversized_record_is_a_problem(tmp_path: Path) -> None:
    people = "".join(f"<Person><XM>{'x' * size}</XM></Person>" for size in (10, 5000, 10))
    records = read(write(tmp_path, f"<d>{people}</d>"), PERSON, Limits(max_record_bytes=1000))
    assert [r.problem for r in records] == [
        None,
        "record too large: element over 1000 bytes",
        None,
    ]
    assert records[2].fields == {"XM": "x" * 10}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<d><Person><XM>&lol9;</XM></Person></d>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<d><Person><XM>&x;</XM></Person></d>
"""

DOCTYPE_ONLY = '<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.invalid/d.dtd"><d/>'


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY, DOCTYPE_ONLY])
def test_dtd_and_entities_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(HostileInput) as caught:
        open_reader(write(tmp_path, text), PERSON)
    assert caught.value.reason == "xml_entities"
    assert "passwd" not in str(caught.value)


def test_malformed_xml_is_refused_with_its_line_before_any_record(tmp_path: Path) -> None:
    people = "\n".join("<Person><XM>x</XM></Person>" for _ in range(50))
    path = write(tmp_path, f"<d>\n{people}\n<Person><XM>broken</Person>\n</d>\n")
    with pytest.raises(HostileInput) as caught:
        open_reader(path, PERSON)
    assert caught.value.reason == "xml_malformed"
    assert "line 52" in caught.value.message
    assert "broken" not in caught.value.message


def test_truncated_xml_and_wrong_encoding_are_malformed(tmp_path: Path) -> None:
    with pytest.raises(HostileInput) as caught:
        open_reader(write(tmp_path, "<d><Person><XM>x</XM></Person>"), PERSON)
    assert caught.value.reason == "xml_malformed"
    gbk = write(tmp_path, '<?xml version="1.0" encoding="GBK"?><d><Person>张</Person></d>', "gbk")
    with pytest.raises(HostileInput) as caught:
        open_reader(gbk, PERSON)
    assert caught.value.reason == "xml_malformed"
    assert "not valid utf-8" in caught.value.message
