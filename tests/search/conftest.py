"""Registers ``helpers.py`` as the module ``search_helpers`` (see tests/demo/conftest.py for why)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location("search_helpers", Path(__file__).with_name("helpers.py"))
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
sys.modules["search_helpers"] = _helpers
_spec.loader.exec_module(_helpers)


@pytest.fixture(scope="module")
def suspect_id(tiny_demo: Any) -> str:
    """The citizen ID of the 滨江 → 云州 story's suspect (their person file lives in 云州)."""
    return str(_helpers.story_suspect_id(tiny_demo))
