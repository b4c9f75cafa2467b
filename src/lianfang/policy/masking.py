"""Masking of personal values (GB/T 35273 practice; widths configurable).

Defaults: citizen ID keeps the first 6 and last 4 (``110105********002X``), mobile
keeps 3 + 4 (``138****1234``), a name keeps the surname (``张**``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaskRules:
    id_head: int = 6
    id_tail: int = 4
    phone_head: int = 3
    phone_tail: int = 4
    name_keep: int = 1
    text_keep: int = 2


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_value(value_type: str, value: object, rules: MaskRules = MaskRules()) -> str:
    """Mask one value according to its standard value type."""
    text = str(value)
    if value_type == "citizen_id":
        return _keep(text, rules.id_head, rules.id_tail)
    if value_type == "phone":
        return _keep(text, rules.phone_head, rules.phone_tail)
    if value_type == "person_name":
        return text[: rules.name_keep] + "*" * max(len(text) - rules.name_keep, 1)
    if value_type in ("date", "datetime"):
        return text[:4] + "-**-**"
    return text[: rules.text_keep] + "***" if len(text) > rules.text_keep else "***"
