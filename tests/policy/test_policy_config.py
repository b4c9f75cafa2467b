"""policy.yaml is checked strictly, and a city can only tighten it."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from lianfang.policy.config import PolicyError, load_policy, parse_policy
from lianfang.policy.roles import Role, RoleError, parse_roles
from lianfang.standard.levels import Level

RAW: dict[str, Any] = yaml.safe_load(
    resources.files("lianfang.policy").joinpath("policy.yaml").read_text(encoding="utf-8")
)


def with_(path: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    *head, last = path.split(".")
    node = raw
    for key in head:
        node = node[key]
    node[last] = value
    return raw


def test_shipped_policy_loads() -> None:
    cfg = load_policy()
    assert cfg.case_number_from is Level.SENSITIVE
    assert set(cfg.roles) == set(Role)
    assert cfg.approver_roles(Level.TOP_SECRET, "360100") == {Role.PROVINCE_APPROVER}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("colour", "red", "unknown keys ['colour']"),
        ("roles.officer.own", "secret", "unknown classification level 'secret'"),
        ("roles.officer.own", 2, "expected a level name"),
        ("roles.constable", {"own": "public", "other": "public", "hits": "public"}, "unknown role 'constable'"),
        ("roles.officer", {"own": "public"}, "missing keys ['hits', 'other']"),
        ("approvers.top_secret", ["city_approver", "janitor"], "unknown role 'janitor'"),
        ("approvers.top_secret", [], "non-empty list"),
        ("purposes", {}, "at least one purpose"),
        ("case_number_from", "none", "must be a level"),
        ("version", 2, "unsupported version"),
        ("cities", {"3601": {"other": "public"}}, "6-digit division code"),
        ("cities", {"360100": {"others": "public"}}, "unknown keys ['others']"),
    ],
)
def test_invalid_policy_is_refused_with_the_key_named(path: str, value: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(with_(path, value))


def test_a_city_cannot_add_approvers() -> None:
    raw = with_("cities", {"360100": {"approvers": {"top_secret": ["city_approver"]}}})
    with pytest.raises(PolicyError, match="may only narrow the approvers"):
        parse_policy(raw)


def test_a_city_cap_looser_than_every_role_is_refused() -> None:
    with pytest.raises(PolicyError, match="may only tighten"):
        parse_policy(with_("cities", {"360100": {"other": "top_secret"}}))


def test_a_role_left_out_reads_nothing() -> None:
    raw = copy.deepcopy(RAW)
    del raw["roles"]["officer"]
    cfg = parse_policy(raw)
    reach = cfg.reach(Role.OFFICER, "360100")
    assert (reach.own, reach.other, reach.hits) == (None, None, None)


def test_a_level_without_approvers_cannot_be_granted() -> None:
    raw = copy.deepcopy(RAW)
    del raw["approvers"]["top_secret"]
    assert parse_policy(raw).approver_roles(Level.TOP_SECRET, "360100") == frozenset()


def test_city_tightening_applies_to_that_city_only() -> None:
    cfg = parse_policy(with_("cities", {"360200": {"other": "public", "hits": "none"}}))
    yz = cfg.reach(Role.INVESTIGATOR, "360200")
    assert (yz.other, yz.hits, yz.own) == (Level.PUBLIC, None, Level.SENSITIVE)
    assert cfg.reach(Role.INVESTIGATOR, "360300").other is Level.INTERNAL


def test_admin_duties_are_separate() -> None:
    assert parse_roles(["auditor", "officer"]) == {Role.AUDITOR, Role.OFFICER}
    for pair in (["auditor", "security_admin"], ["system_admin", "security_admin"], ["auditor", "system_admin"]):
        with pytest.raises(RoleError, match="三员分立"):
            parse_roles(pair)
    with pytest.raises(RoleError, match="unknown role"):
        parse_roles(["officer", "root"])
    with pytest.raises(RoleError, match="at least one role"):
        parse_roles([])


def test_masking_is_configurable_within_limits() -> None:
    from lianfang.policy.masking import mask_value

    cfg = parse_policy(with_("masking", {"id_head": 4, "id_tail": 2, "name_keep": 1}))
    assert mask_value("citizen_id", "11010519491231002X", cfg.masking) == "1101************2X"
    assert load_policy().masking.id_head == 6
    with pytest.raises(PolicyError, match="hide most of its digits"):
        parse_policy(with_("masking", {"id_head": 8, "id_tail": 6}))
    with pytest.raises(PolicyError, match="unknown keys"):
        parse_policy(with_("masking", {"id_middle": 3}))
    with pytest.raises(PolicyError, match="0 to 8"):
        parse_policy(with_("masking", {"phone_head": -1}))
