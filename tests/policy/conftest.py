"""Registers ``oracle.py`` as the module ``access_oracle`` (see tests/demo/conftest.py for why)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("access_oracle", Path(__file__).with_name("oracle.py"))
assert _spec is not None and _spec.loader is not None
_oracle = importlib.util.module_from_spec(_spec)
sys.modules["access_oracle"] = _oracle
_spec.loader.exec_module(_oracle)
