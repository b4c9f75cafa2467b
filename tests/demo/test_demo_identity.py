"""GB 11643 IDs, GA 36 plates and the bijections that keep them unique without memory."""

from __future__ import annotations

from datetime import date

import demo_support as support
from hypothesis import given, settings
from hypothesis import strategies as st

from lianfang.demo.draws import Draws, Permutation
from lianfang.demo.identity import (
    check_char,
    impossible_birth,
    is_valid,
    make_id,
    to_15,
    upgrade_15,
    wrong_check,
)
from lianfang.demo.plates import MAX_PER_CITY, registered_plate, visitor_plate


def test_check_character_matches_the_standard_examples() -> None:
    assert is_valid("11010519491231002X")
    assert is_valid("440524188001010014")
    assert check_char("11010519491231002") == "X"
    assert support.check_char("44052418800101001") == "4"


def test_legacy_15_digit_numbers_round_trip() -> None:
    assert upgrade_15("110105491231002") == "11010519491231002X"
    assert to_15("11010519491231002X") == "110105491231002"


def test_defective_ids_fail_for_exactly_the_intended_reason() -> None:
    good = make_id("360101", date(1987, 5, 3), 123)
    assert support.citizen_id(good) == good
    for bad, reason in ((wrong_check(good), "citizen_id.check_digit"),
                        (impossible_birth(good), "citizen_id.birth_date")):
        try:
            support.citizen_id(bad)
        except ValueError as exc:
            assert exc.args[0] == reason
        else:
            raise AssertionError(f"{bad} passed")


@settings(max_examples=60)
@given(st.integers(min_value=2, max_value=5000), st.integers(min_value=0, max_value=2**64 - 1))
def test_permutation_is_a_bijection(n: int, key: int) -> None:
    perm = Permutation(n, key)
    assert sorted(perm(i) for i in range(n)) == list(range(n))


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=2, max_value=10**9))
def test_draws_stay_in_range(key: int, n: int) -> None:
    d = Draws(key)
    assert all(0 <= d.below(n) < n for _ in range(20))


def test_registered_plates_are_unique_and_follow_ga36() -> None:
    plates = [registered_plate(7, 1, "A", k)[0] for k in range(30_000)]
    assert len(set(plates)) == len(plates)
    assert all(support.PLATE.match(p) and p.startswith("赣A") for p in plates)
    assert not any(ch in p[2:] for p in plates for ch in "IO")
    assert MAX_PER_CITY >= 150_000


def test_visitor_plates_are_unique_and_from_other_provinces() -> None:
    plates = [visitor_plate(7, n) for n in range(30_000)]
    assert len(set(plates)) == len(plates)
    assert all(support.PLATE.match(p) and not p.startswith("赣") for p in plates)
