"""Phone numbers: mobile and landline spellings, rejections, formatting variants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-13812345678",
        "8613812345678",
        "(+86)138-1234-5678",
        "+86-138.1234.5678",
        "１３８１２３４５６７８",
        "＋８６　１３８（１２３４）５６７８",
        "013812345678",
    ],
)
def test_mobile_forms(compile_type, raw):
    assert compile_type("phone")(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "0791-88888888",
        "(0791)88888888",
        "（0791）88888888",
        "0791 8888 8888",
        "079188888888",
        "0791-8888-8888",
        "0791-88888888转123",
        "0791-88888888 转 123",
        "0791-88888888-123",
        "0791-88888888 ext. 12",
        "0791-88888888分机5",
        "0791-88888888#6",
        "+86 791 88888888",
        "0086-791-88888888",
        "+86 (0)791 8888 8888",
        "０７９１－８８８８８８８８",
    ],
)
def test_landline_forms(compile_type, raw):
    assert compile_type("phone")(raw) == "0791-88888888"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("(020)3123456", "020-3123456"),  # 7-digit subscriber
        ("0755 2345 6789", "0755-23456789"),
        ("0951-5123456", "0951-5123456"),
    ],
)
def test_area_code_lengths(compile_type, raw, canonical):
    assert compile_type("phone")(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "110",  # police short numbers
        "122",
        "12110",
        "12345",  # government hotline
        "95110",  # service number
        "400-123-4567",  # 400/800 numbers
        "800-810-8888",
        "4001234567",
        "88888888",  # no area code
        "0791-1234567",  # subscriber cannot start with 1
        "0791-0234567",
        "0791-888888",  # too short
        "0791-888888888",  # too long
        "011-62345678",  # 01x other than 010 does not exist
        "1281234567",  # 10 digits
        "12812345678",  # no 12x mobile prefix
        "138123456789",
        "+1 212 555 0100",
        "138-1234-567a",
        "电话13812345678",
    ],
)
def test_rejections(compile_type, reject, raw):
    assert reject(compile_type("phone"), raw).code == "phone.format"


# --- properties ------------------------------------------------------------------

mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
noise = st.sampled_from([" ", "-", "　", "－", " - ", "."])


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(
    number=mobiles,
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "(+86)", "+86-"]),
    data=st.data(),
    wide=st.booleans(),
)
def test_mobile_variants_give_the_bare_11_digits(compile_type, number, prefix, data, wide):
    cuts = sorted(data.draw(st.lists(st.integers(1, 10), max_size=3, unique=True)), reverse=True)
    written = number
    for cut in cuts:
        written = written[:cut] + data.draw(noise) + written[cut:]
    written = prefix + written
    assert compile_type("phone")(fullwidth(written) if wide else written) == number


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(
        st.one_of(
            st.just("010"),
            st.builds(lambda d: f"02{d}", st.sampled_from("0123456789")),
            st.builds(
                lambda a, b: f"0{a}{b}",
                st.sampled_from("3456789"),
                st.text("0123456789", min_size=2, max_size=2),
            ),
        )
    )
    first = draw(st.sampled_from("23456789"))
    subscriber = first + draw(st.text("0123456789", min_size=6, max_size=7))
    return area, subscriber


@given(
    number=landlines(),
    layout=st.sampled_from(
        [
            "{a}-{s}",
            "({a}){s}",
            "{a} {s}",
            "{a}{s}",
            "（{a}）{s}",
            "+86 {a1} {s}",
            "{a}-{s}转88",
            "{a}-{s}-1",
        ]
    ),
)
def test_landline_variants_give_area_dash_subscriber(compile_type, number, layout):
    area, subscriber = number
    written = layout.format(a=area, a1=area[1:], s=subscriber)
    assert compile_type("phone")(written) == f"{area}-{subscriber}"
