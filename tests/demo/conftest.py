"""Generated provinces shared by the demo tests, and their parsed contents.

The helpers in ``support.py`` (readers, mapping rules, validators) are registered as
the module ``demo_support``: with ``--import-mode=importlib`` test files cannot
import a sibling module by name, but they can import one already in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location("demo_support", Path(__file__).with_name("support.py"))
assert _spec is not None and _spec.loader is not None
support = importlib.util.module_from_spec(_spec)
sys.modules["demo_support"] = support
_spec.loader.exec_module(support)

from lianfang import demo  # noqa: E402


@dataclass
class File:
    path: str
    mapping: dict[str, Any]
    feed: dict[str, Any]
    columns: list[str]
    records: list[Any]

    @property
    def category(self) -> str:
        return str(self.feed["category"])


@dataclass
class Province:
    root: Path
    manifest: dict[str, Any]
    files: dict[str, File] = field(default_factory=dict)

    def list(self, name: str) -> list[dict[str, Any]]:
        return support.iter_manifest_list(self.root, self.manifest, name)

    def defects(self) -> dict[tuple[str, int], dict[str, Any]]:
        return {(d["file"], d["position"]): d for d in self.list("defects")}

    def duplicates(self) -> dict[tuple[str, int], dict[str, Any]]:
        return {(d["file"], d["position"]): d for d in self.list("duplicates")}


def load(root: Path) -> Province:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    province = Province(root, manifest)
    for entry in manifest["files"]:
        [(mapping, feed)] = support.feeds_for(entry["path"])
        columns, records = support.read(root / entry["path"], support.source_of(mapping, feed))
        province.files[entry["path"]] = File(entry["path"], mapping, feed, columns, records)
    return province


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    demo.generate(root, seed=7, scale="tiny")
    return root


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Province:
    root = tmp_path_factory.mktemp("small")
    demo.generate(root, seed=7, scale="small")
    return load(root)
