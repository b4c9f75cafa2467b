"""Every YAML file the package ships reads the same through the fast loader as through PyYAML's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import lianfang
from lianfang.standard.yamltext import SafeLoader, load_yaml

PACKAGED = sorted(Path(lianfang.__file__).parent.rglob("*.yaml"))


def test_the_fast_loader_is_used_where_pyyaml_has_it() -> None:
    assert len(PACKAGED) > 20  # the standard, the mappings, the policy, the alarm rules
    if yaml.__with_libyaml__:
        assert SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize("path", PACKAGED, ids=lambda p: p.name)
def test_packaged_yaml_reads_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


def test_tags_that_build_objects_are_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
