"""Citizen ID numbers (GB 11643): examples, every error code, and properties of the check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianfang.standard.types.citizen_id import (
    PROVINCES,
    birth_date_of,
    check_char,
    sex_of,
    upgrade_15,
)

VALID = ["11010519491231002X", "440524188001010014"]


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


@pytest.mark.parametrize("raw", VALID)
def test_standard_examples_are_valid_and_canonical(compile_type, raw):
    assert compile_type("citizen_id")(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",  # lower-case check character
        "１１０１０５１９４９１２３１００２Ｘ",  # full width
        "  11010519491231002X ",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "110105\u300019491231002x",  # ideographic space
        "110105491231002",  # 15-digit legacy number
    ],
)
def test_spellings_normalise_to_one_canonical_id(compile_type, raw):
    assert compile_type("citizen_id")(raw) == "11010519491231002X"


def test_upgrade_15_inserts_19_and_computes_the_check_character():
    assert upgrade_15("110105491231002") == "11010519491231002X"
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"


def test_sex_and_birth_date_come_from_the_number():
    assert sex_of("11010519491231002X") == "2"  # sequence 002: even
    assert sex_of("440524188001010014") == "1"  # sequence 001: odd
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100a", "１２３"])
def test_helpers_refuse_what_is_not_digits(bad):
    with pytest.raises(ValueError):
        check_char(bad)
    with pytest.raises(ValueError):
        upgrade_15(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100",  # 16 characters
        "11010519491231002XX",
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "A1010519491231002X",
        "11010549123100",  # 14 digits
        "11010549123100X",  # 15 with a letter
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_format(compile_type, reject, raw):
    assert reject(compile_type("citizen_id"), raw).code == "citizen_id.format"


def test_check_digit(compile_type, reject):
    assert reject(compile_type("citizen_id"), "110105194912310021").code == "citizen_id.check_digit"


@pytest.mark.parametrize(
    "prefix", ["00", "10", "16", "20", "39", "47", "55", "60", "70", "83", "99"]
)
def test_division_outside_any_province(compile_type, reject, prefix):
    raw = with_check(f"{prefix}010519491231002")
    assert reject(compile_type("citizen_id"), raw).code == "citizen_id.division"


def test_retired_division_codes_stay_valid(compile_type):
    # 110103 (崇文区) was merged away in 2010; IDs issued under it are still valid.
    raw = with_check("11010319700101123")
    assert compile_type("citizen_id")(raw) == raw


@pytest.mark.parametrize(
    "birth",
    [
        "19490230",  # no 30 February
        "19491301",
        "19490000",
        "19000229",  # 1900 is not a leap year
        "18791231",  # before the default earliest year, 1880
        "20260302",  # after "today" (NOW is 2026-03-01)
        "30000101",
    ],
)
def test_birth_date(compile_type, reject, birth):
    raw = with_check(f"110105{birth}002")
    assert reject(compile_type("citizen_id"), raw).code == "citizen_id.birth_date"


def test_leap_day_and_today_are_valid(compile_type):
    for birth in ("20000229", "19960229", "20260301"):
        raw = with_check(f"110105{birth}002")
        assert compile_type("citizen_id")(raw) == raw


def test_earliest_birth_year_is_configurable(compile_type, reject):
    strict = compile_type("citizen_id", extra={"citizen_id_min_year": "1900"})
    assert reject(strict, "440524188001010014").code == "citizen_id.birth_date"
    assert strict("11010519491231002X") == "11010519491231002X"


def test_future_birth_is_judged_in_the_context_zone(compile_type):
    from datetime import UTC, datetime

    # 2026-03-01 20:00 UTC is already 2 March in Shanghai: born "today" is fine.
    late = compile_type("citizen_id", now=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    raw = with_check("11010520260302002")
    assert late(raw) == raw


def test_wall_clock_when_no_now_is_given(compile_type, reject):
    normalise = compile_type("citizen_id", now=None)
    tomorrow = (date.today() + timedelta(days=2)).strftime("%Y%m%d")
    assert reject(normalise, with_check(f"110105{tomorrow}002")).code == "citizen_id.birth_date"
    assert normalise("11010519491231002X") == "11010519491231002X"


# --- properties ------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCES))
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 3, 1))
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """17 digits: a province, any 4 digits, a plausible birth date, a sequence."""
    area = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    seq = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return f"{draw(provinces)}{area}{draw(births).strftime('%Y%m%d')}{seq}"


@given(body=bodies())
def test_body_plus_check_char_validates_and_is_a_fixed_point(compile_type, body):
    normalise = compile_type("citizen_id")
    raw = body + check_char(body)
    assert normalise(raw) == raw
    assert normalise(raw.lower()) == raw


@given(body=bodies(), position=st.integers(0, 17), data=st.data())
def test_changing_any_single_character_is_never_accepted(
    compile_type, reject, body, position, data
):
    raw = body + check_char(body)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    new = data.draw(st.sampled_from([c for c in alphabet if c != raw[position]]))
    changed = raw[:position] + new + raw[position + 1 :]
    # MOD 11-2 catches every single substitution, so the check digit fails first.
    assert reject(compile_type("citizen_id"), changed).code == "citizen_id.check_digit"


@given(
    province=provinces,
    area=st.text(alphabet="0123456789", min_size=4, max_size=4),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    seq=st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_15_digit_forms_upgrade_to_a_valid_id(compile_type, province, area, birth, seq):
    id15 = f"{province}{area}{birth.strftime('%y%m%d')}{seq}"
    normalise = compile_type("citizen_id")
    upgraded = normalise(id15)
    assert upgraded == upgrade_15(id15)
    assert upgraded[:6] + "19" + upgraded[8:17] == id15[:6] + "19" + id15[6:]
    assert check_char(upgraded[:17]) == upgraded[17]
    assert normalise(upgraded) == upgraded
    assert birth_date_of(upgraded) == birth
