"""The access policy's configuration: ``policy.yaml``, validated strictly.

Every name is checked against what it names (roles, levels, purposes, city codes);
an unknown key is an error, never ignored, and a role missing from ``roles`` reads
nothing. A city's entry may only tighten the province policy: a looser value is a
:class:`PolicyError` at load time, so a configuration that would widen access
never starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lianfang.policy.masking import MaskRules
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level, parse_level
from lianfang.standard.yamltext import load_yaml

#: ``None`` stands for "none": below every level.
Reach = Level | None


class PolicyError(ValueError):
    """The policy configuration is invalid (the message names the key)."""


def lower(a: Reach, b: Reach) -> Reach:
    """The tighter of two reaches."""
    if a is None or b is None:
        return None
    return a if a.rank <= b.rank else b


def within(level: Level, reach: Reach) -> bool:
    """True when ``reach`` covers ``level``."""
    return reach is not None and reach.at_least(level)


@dataclass(frozen=True)
class RoleReach:
    own: Reach
    other: Reach
    hits: Reach


NOTHING = RoleReach(None, None, None)


@dataclass(frozen=True)
class CityRules:
    """A city's tightening of what is read of its data (``None`` = no change)."""

    own: Reach | None = None
    other: Reach | None = None
    hits: Reach | None = None
    caps: frozenset[str] = frozenset()  # which of own/other/hits are set (a cap may be "none")
    approvers: Mapping[Level, frozenset[Role]] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyConfig:
    purposes: Mapping[str, Mapping[str, str]]
    case_number_from: Level
    roles: Mapping[Role, RoleReach]
    approvers: Mapping[Level, frozenset[Role]]
    cities: Mapping[str, CityRules]
    masking: MaskRules = field(default_factory=MaskRules)
    # categories read at least at this level on every path, whatever a record's own
    # classification (sightings are movements, 行踪轨迹: personal, sensitive by default)
    floors: Mapping[str, Level] = field(default_factory=dict)

    def floor(self, category: str) -> Level:
        return self.floors.get(category, Level.PUBLIC)

    def reach(self, role: Role, owner_city: str) -> RoleReach:
        """The role's reach over data owned by ``owner_city``, after that city's tightening."""
        base = self.roles.get(role, NOTHING)
        city = self.cities.get(owner_city)
        if city is None:
            return base
        return RoleReach(
            own=lower(base.own, city.own) if "own" in city.caps else base.own,
            other=lower(base.other, city.other) if "other" in city.caps else base.other,
            hits=lower(base.hits, city.hits) if "hits" in city.caps else base.hits,
        )

    def approver_roles(self, level: Level, owner_city: str) -> frozenset[Role]:
        """Roles whose grant opens ``level`` data of ``owner_city`` (empty: no grant can)."""
        roles = self.approvers.get(level, frozenset())
        city = self.cities.get(owner_city)
        if city is not None and level in city.approvers:
            roles = roles & city.approvers[level]
        return roles


_TOP_KEYS = {"version", "purposes", "case_number_from", "roles", "approvers", "cities", "masking", "floors"}
_CATEGORY = re.compile(r"^[a-z][a-z_]{0,39}$")
_MASK_KEYS = {"id_head", "id_tail", "phone_head", "phone_tail", "name_keep", "text_keep"}
_REACH_KEYS = ("own", "other", "hits")
_CITY = re.compile(r"^\d{6}$")


def _reach(value: Any, where: str) -> Reach:
    if value == "none":
        return None
    if not isinstance(value, str):
        raise PolicyError(f"{where}: expected a level name or 'none', got {value!r}")
    try:
        return parse_level(value)
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _role(name: Any, where: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise PolicyError(f"{where}: unknown role {name!r}") from None


def _keys(raw: Any, allowed: set[str] | tuple[str, ...], where: str, required: bool = True) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping")
    unknown = set(raw) - set(allowed)
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
    if required and set(allowed) - set(raw):
        raise PolicyError(f"{where}: missing keys {sorted(set(allowed) - set(raw))}")
    return raw


def _approvers(raw: Any, where: str) -> dict[Level, frozenset[Role]]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping of level to approver roles")
    out: dict[Level, frozenset[Role]] = {}
    for name, roles in raw.items():
        level = _reach(name, f"{where}.{name}")
        if level is None:
            raise PolicyError(f"{where}: 'none' is not a level to approve")
        if not isinstance(roles, list) or not roles:
            raise PolicyError(f"{where}.{name}: expected a non-empty list of roles")
        out[level] = frozenset(_role(r, f"{where}.{name}") for r in roles)
    return out


def _looser(city: Reach, base: Reach) -> bool:
    if city is None:
        return False
    return base is None or city.rank > base.rank


def _masking(raw: Any) -> MaskRules:
    rules = _keys(raw, _MASK_KEYS, "policy.masking", required=False)
    for key, value in rules.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 8:
            raise PolicyError(f"policy.masking.{key}: a number of characters from 0 to 8")
    masked = MaskRules(**rules)
    if masked.id_head + masked.id_tail > 10 or masked.phone_head + masked.phone_tail > 7:
        raise PolicyError("policy.masking: a masked ID or phone number must hide most of its digits")
    return masked


def parse_policy(raw: Any) -> PolicyConfig:
    if isinstance(raw, dict):
        raw = {"masking": {}, "floors": {}, **raw}
    top = _keys(raw, _TOP_KEYS, "policy")
    if top["version"] != 1:
        raise PolicyError(f"policy.version: unsupported version {top['version']!r}")
    purposes = top["purposes"]
    if not isinstance(purposes, dict) or not purposes:
        raise PolicyError("policy.purposes: at least one purpose is needed")
    for code, labels in purposes.items():
        _keys(labels, {"zh", "en"}, f"policy.purposes.{code}")
    floor = _reach(top["case_number_from"], "policy.case_number_from")
    if floor is None:
        raise PolicyError("policy.case_number_from: must be a level")
    roles: dict[Role, RoleReach] = {}
    for name, reach in (top["roles"] or {}).items():
        role = _role(name, "policy.roles")
        r = _keys(reach, _REACH_KEYS, f"policy.roles.{name}")
        roles[role] = RoleReach(*(_reach(r[k], f"policy.roles.{name}.{k}") for k in _REACH_KEYS))
    approvers = _approvers(top["approvers"], "policy.approvers")
    cities: dict[str, CityRules] = {}
    for code, rules in (top["cities"] or {}).items():
        where = f"policy.cities.{code}"
        if not isinstance(code, str) or not _CITY.match(code):
            raise PolicyError(f"{where}: a city is its 6-digit division code, as a quoted string")
        rules = _keys(rules, {*_REACH_KEYS, "approvers"}, where, required=False)
        caps = {k: _reach(rules[k], f"{where}.{k}") for k in _REACH_KEYS if k in rules}
        for key, value in caps.items():
            # a cap is applied with lower(), so it can never widen access; a cap looser than
            # every role's reach would change nothing and is most likely meant as a loosening
            if roles and all(_looser(value, getattr(base, key)) for base in roles.values()):
                raise PolicyError(
                    f"{where}.{key}: {value} is looser than the province policy for every role; "
                    "a city may only tighten"
                )
        city_approvers = _approvers(rules.get("approvers", {}), f"{where}.approvers")
        for level, who in city_approvers.items():
            extra = who - approvers.get(level, frozenset())
            if extra:
                raise PolicyError(
                    f"{where}.approvers.{level}: {sorted(r.value for r in extra)} may not approve "
                    f"{level} under the province policy; a city may only narrow the approvers"
                )
        cities[code] = CityRules(
            own=caps.get("own"),
            other=caps.get("other"),
            hits=caps.get("hits"),
            caps=frozenset(caps),
            approvers=city_approvers,
        )
    return PolicyConfig(
        purposes={str(k): dict(v) for k, v in purposes.items()},
        case_number_from=floor,
        roles=roles,
        approvers=approvers,
        cities=cities,
        masking=_masking(top["masking"] or {}),
        floors=_floors(top["floors"] or {}),
    )


def _floors(raw: Any) -> dict[str, Level]:
    if not isinstance(raw, dict):
        raise PolicyError("policy.floors: expected a mapping of category to level")
    out: dict[str, Level] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not _CATEGORY.match(name):
            raise PolicyError(f"policy.floors: {name!r} is not a category name")
        level = _reach(value, f"policy.floors.{name}")
        if level is None:
            raise PolicyError(f"policy.floors.{name}: 'none' is not a level")
        out[name] = level
    return out


def load_policy(path: Path | None = None) -> PolicyConfig:
    """The shipped policy, or the one at ``path``."""
    if path is None:
        text = resources.files("lianfang.policy").joinpath("policy.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy: not valid YAML ({exc})") from None
    return parse_policy(raw)


__all__ = ["NOTHING", "CityRules", "PolicyConfig", "PolicyError", "Reach", "RoleReach", "load_policy",
           "lower", "parse_policy", "within"]
