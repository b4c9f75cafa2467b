"""Recognising the one search box: every kind, normalised as the standard stores it (property tests)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianfang.search.recognise import Query, QueryKind, Recogniser, Unrecognised
from lianfang.standard.types.citizen_id import check_char
from lianfang.standard.types.plate import PROVINCES

R = Recogniser({"滨江": "360100", "滨江市": "360100", "云州市": "360200", "云州": "360200"})
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plate letters skip I and O


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["110105", "360102", "360203", "440304"]))
    born = date(1940, 1, 1) + timedelta(days=draw(st.integers(0, 365 * 60)))
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


@st.composite
def plates(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(PROVINCES)) + draw(st.sampled_from(LETTERS))
    tail = draw(st.text(alphabet="0123456789" + LETTERS, min_size=5, max_size=5).filter(
        lambda t: sum(c.isalpha() for c in t) <= 2))
    return head + tail


@given(citizen_ids())
def test_citizen_ids_are_recognised_in_any_case_and_from_15_digits(cid: str) -> None:
    assert R.recognise(cid) == Query(QueryKind.CITIZEN_ID, cid)
    assert R.recognise(f"  {cid.lower()} ").value == cid
    if cid[6:8] == "19":
        id15 = cid[:6] + cid[8:17]
        assert R.recognise(id15).value == cid


@given(citizen_ids(), st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_not_read_as_anything_else(cid: str, wrong: str) -> None:
    bad = cid[:17] + wrong
    if bad == cid:
        return
    with pytest.raises(Unrecognised):
        R.recognise(bad)


@given(plates(), st.sampled_from(["", " ", "·", "-"]), st.booleans())
def test_plates_in_any_spelling_normalise_to_the_stored_form(plate: str, sep: str, lower: bool) -> None:
    typed = plate[:2] + sep + plate[2:]
    typed = typed.lower() if lower else typed
    q = R.recognise(typed)
    assert q.kind is QueryKind.PLATE and q.value == plate
    assert R.recognise(q.value) == q  # idempotent


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_mobile_numbers(second: str, rest: str) -> None:
    number = "1" + second + rest
    assert R.recognise(number) == Query(QueryKind.PHONE, number)
    assert R.recognise(f"+86 {number[:3]} {number[3:7]} {number[7:]}").value == number


_MESSAGES: dict[str, str] = {}


@given(st.text(max_size=100) | st.text(alphabet="0123456789X张伟赣A -", max_size=25))
def test_anything_typed_is_recognised_or_refused_with_a_message_that_never_echoes_it(text: str) -> None:
    try:
        q = R.recognise(text)
    except Unrecognised as exc:
        # the message depends on the reason code only, never on what was typed (it may be personal)
        assert _MESSAGES.setdefault(exc.code, str(exc)) == str(exc)
        return
    assert q.value and R.recognise(q.value, q.kind).value == q.value


@pytest.mark.parametrize(("typed", "kind", "value"), [
    ("A3601002026110001", QueryKind.CASE_NO, "A3601002026110001"),
    ("a3601002026110001", QueryKind.CASE_NO, "A3601002026110001"),
    ("36010400001210000004", QueryKind.DEVICE_ID, "36010400001210000004"),
    ("张伟", QueryKind.NAME, "张伟"),
    ("阿依古丽·买买提", QueryKind.NAME, "阿依古丽·买买提"),
    ("0791-88886666", QueryKind.PHONE, None),
])
def test_other_kinds(typed: str, kind: QueryKind, value: str | None) -> None:
    q = R.recognise(typed)
    assert q.kind is kind and (value is None or q.value == value)


def test_names_narrow_by_city_and_birth_year() -> None:
    assert R.recognise("张伟 滨江 1985") == Query(QueryKind.NAME, "张伟", "360100", 1985)
    assert R.recognise("张伟 1985 云州市") == Query(QueryKind.NAME, "张伟", "360200", 1985)
    assert R.recognise("张伟 360300") == Query(QueryKind.NAME, "张伟", "360300", None)
    with pytest.raises(Unrecognised) as err:
        R.recognise("张伟 火星")
    assert err.value.code == "query.narrowing"


def test_forced_kinds_and_clear_refusals() -> None:
    assert R.recognise("赣A7Q777", QueryKind.PLATE).value == "赣A7Q777"
    with pytest.raises(Unrecognised) as err:
        R.recognise("赣A7Q777", QueryKind.CITIZEN_ID)
    assert err.value.code.startswith("citizen_id.")
    for text, code in (("", "query.empty"), ("1" * 81, "query.too_long"), ("12345", "query.digits")):
        with pytest.raises(Unrecognised) as err:
            R.recognise(text)
        assert err.value.code == code


def test_the_value_of_a_personal_query_is_not_in_its_repr() -> None:
    q = R.recognise("11010519491231002X")
    assert "11010519491231002X" not in repr(q) and q.personal
