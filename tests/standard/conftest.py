"""Fixtures for the standard's tests: compile one value type against a fixed clock.

Session-scoped, so hypothesis tests can use them too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from lianfang.standard import Field, Label, Level, Standard, load_standard
from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue, Normaliser
from lianfang.standard.types.base import SHANGHAI

# A fixed "now" keeps the future checks deterministic.
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=SHANGHAI)

Compile = Callable[..., Normaliser]
Reject = Callable[[Normaliser, str], InvalidValue]


def _compile(type_name: str, **context: Any) -> Normaliser:
    context.setdefault("now", NOW)
    field = Field(name="value", type=type_name, label=Label("值", "Value"), level=Level.INTERNAL)
    return VALUE_TYPES[type_name].compile(field, None, Context(**context))


def _reject(normalise: Normaliser, raw: str) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        normalise(raw)
    error = caught.value
    # Messages end up in logs and the quarantine list: never the (personal) value.
    assert raw.strip() not in str(error), "the error message repeats the offending value"
    return error


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def compile_type() -> Compile:
    """``compile_type("plate", formats=(...), extra={...})``: a normaliser, ``now`` fixed."""
    return _compile


@pytest.fixture(scope="session")
def reject() -> Reject:
    """``reject(normalise, raw)``: the ``InvalidValue`` raised (after checking it leaks nothing)."""
    return _reject


@pytest.fixture(scope="session")
def standard() -> Standard:
    return load_standard()
