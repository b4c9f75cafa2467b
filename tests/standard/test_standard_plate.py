"""Plate numbers (GA 36-2018): every form in STANDARDS.md, spellings, rejections, the cache."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianfang.standard.types.plate import NEW_ENERGY_LETTERS, PROVINCES, clean, plate_kind

FORMS = [
    ("赣A12345", "regular"),
    ("京BA1B2C", "regular"),
    ("沪C1234挂", "regular"),  # trailer
    ("川A1234学", "regular"),  # driving school
    ("赣A1234警", "regular"),  # police
    ("粤Z1234港", "regular"),  # Hong Kong cross-border
    ("粤Z1234澳", "regular"),  # Macau cross-border
    ("赣AD12345", "new_energy_small"),
    ("赣AFA1234", "new_energy_small"),
    ("赣A12345D", "new_energy_large"),
    ("赣A12345F", "new_energy_large"),
]


@pytest.mark.parametrize(("plate", "kind"), FORMS)
def test_every_form_is_accepted_as_is(compile_type, plate, kind):
    assert compile_type("plate")(plate) == plate
    assert plate_kind(plate) == kind


@pytest.mark.parametrize(
    "raw",
    [
        "赣A·12345",
        "赣A•12345",
        "赣A-12345",
        "赣A.12345",
        "赣A_12345",
        "赣 A 12345",
        "赣A\u300012345",
        "赣a12345",
        "赣Ａ１２３４５",
        "赣ａ·１２３４５",
        " 赣A12345 ",
        "赣A・12345",
    ],
)
def test_separators_width_and_case_normalise_to_one_form(compile_type, raw):
    assert compile_type("plate")(raw) == "赣A12345"


@pytest.mark.parametrize(
    "raw",
    [
        "赣AI2345",  # I in the serial
        "赣A1234O",  # O as the last character
        "赣AO1234",
        "赣AD1I345",  # I in a new-energy serial
        "赣A1234",  # too short
        "赣A123456",  # a digit too many for a regular plate
        "赣AA12345",  # A is not a new-energy letter by default
        "赣AD1234A",  # small new energy ends in 4 digits
        "赣A1234DD",
        "XA12345",  # not a province
        "台A12345",
        "港A12345",
        "A12345",
        "赣112345",  # second place must be a letter
        "无牌",
        "WJ赣12345",  # armed police plates are outside GA 36's civil scheme
    ],
)
def test_invalid_plates_are_rejected(compile_type, reject, raw):
    assert reject(compile_type("plate"), raw).code == "plate.format"


def test_plate_kind_refuses_non_plates():
    with pytest.raises(ValueError):
        plate_kind("无牌")


def test_new_energy_letters_are_configurable(compile_type, reject):
    assert NEW_ENERGY_LETTERS == ("D", "F")
    wider = compile_type("plate", extra={"plate_new_energy_letters": "DABCEFGHJK"})
    assert wider("赣AA12345") == "赣AA12345"
    assert wider("赣A12345K") == "赣A12345K"
    assert plate_kind("赣AA12345", ("D", "A")) == "new_energy_small"
    # the default normaliser shares no cached answer with the wider one
    assert reject(compile_type("plate"), "赣AA12345").code == "plate.format"
    with pytest.raises(ValueError):
        compile_type("plate", extra={"plate_new_energy_letters": "DI"})


def test_cached_results_repeat_and_cached_rejections_raise_every_time(compile_type, reject):
    normalise = compile_type("plate")
    assert normalise("赣a·12345") == normalise("赣a·12345") == "赣A12345"
    first = reject(normalise, "赣AI2345")
    second = reject(normalise, "赣AI2345")
    assert first is not second and first.code == second.code == "plate.format"
    assert second.__traceback__ is not None and second.__context__ is None


# --- properties ------------------------------------------------------------------

serial = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
provinces = st.sampled_from(PROVINCES)
letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@st.composite
def plates(draw: st.DrawFn) -> str:
    head = draw(provinces) + draw(letters)
    kind = draw(st.sampled_from(["regular", "small", "large"]))
    if kind == "regular":
        tail = draw(st.text(serial, min_size=4, max_size=4))
        return head + tail + draw(st.sampled_from([*serial, *"挂学警港澳"]))
    if kind == "small":
        ne = draw(st.sampled_from(NEW_ENERGY_LETTERS))
        return (
            head
            + ne
            + draw(st.sampled_from(serial))
            + draw(st.text("0123456789", min_size=4, max_size=4))
        )
    return (
        head
        + draw(st.text("0123456789", min_size=5, max_size=5))
        + draw(st.sampled_from(NEW_ENERGY_LETTERS))
    )


separators = st.sampled_from(["·", "•", ".", "-", "_", " ", "\u3000", "  "])


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(plate=plates(), data=st.data())
def test_separators_never_change_the_result(compile_type, plate, data):
    positions = data.draw(st.lists(st.integers(0, len(plate)), max_size=4))
    noisy = plate
    for pos in sorted(positions, reverse=True):
        noisy = noisy[:pos] + data.draw(separators) + noisy[pos:]
    assert compile_type("plate")(noisy) == plate


@given(plate=plates(), data=st.data())
def test_width_and_case_never_change_the_result(compile_type, plate, data):
    mask = data.draw(st.lists(st.booleans(), min_size=len(plate), max_size=len(plate)))
    varied = "".join(
        fullwidth(c) if wide else c.lower() for c, wide in zip(plate, mask, strict=True)
    )
    assert unicodedata.normalize("NFKC", varied).upper() == plate
    assert compile_type("plate")(varied) == plate
    assert clean(varied) == plate


def test_long_text_is_rejected_without_filling_the_cache(compile_type, reject):
    assert reject(compile_type("plate"), "赣A12345" + " " * 40).code == "plate.format"
