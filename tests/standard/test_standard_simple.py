"""The small value types in simple.py: the cases fixed alongside the new types."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "1e999"])
def test_numbers_must_be_finite(compile_type, reject, raw):
    assert reject(compile_type("number"), raw).code == "number.range"


def test_huge_integers_are_range_checked_not_crashed(compile_type):
    assert compile_type("integer")("9" * 400) == int("9" * 400)


@pytest.mark.parametrize("name", ["张三", "王𠇔", "阿依古丽·买买提", "李 四"])
def test_names_with_rare_characters_and_middle_dots(compile_type, name):
    assert compile_type("person_name")(name) == name.replace(" ", "")


def test_case_numbers_are_ascii(compile_type, reject):
    assert compile_type("case_no")("A3601005000002026110001") == "A3601005000002026110001"
    # Arabic-Indic digits survive NFKC; they are not digits of a case number
    assert reject(compile_type("case_no"), "A٣٦٠١٠٠٥٠٠٠٠٠٢٠٢٦١١٠٠٠١").code == "case_no.format"
