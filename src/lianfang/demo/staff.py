"""The demo province's staff: a realistic set of accounts across the 16 cities and the province.

Per city: a street officer in the first district, an investigator, a city approver, a
dispatcher and a data steward at the city bureau. At the province: two province
approvers, a province investigator, the three separated administrators (system,
security, audit) and one partner agency. User names are ``<city initials>_<duty>``
(``bj_inv`` is 滨江's investigator, ``yz_appr`` 云州's approver).
"""

from __future__ import annotations

from dataclasses import dataclass

from lianfang.demo.geography import PROVINCE_CODE, PROVINCE_NAME, province


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    unit_code: str
    unit_name: str
    roles: tuple[str, ...]
    cleared_top_secret: bool = False


_CITY_DUTIES = (
    ("officer", "officer", "民警"),
    ("inv", "investigator", "侦查员"),
    ("appr", "city_approver", "审批员"),
    ("dispatch", "dispatcher", "调度员"),
    ("steward", "steward", "数据管理员"),
)


def demo_staff() -> list[StaffSpec]:
    out: list[StaffSpec] = []
    prov = province()
    for city in prov.cities:
        bureau = f"{city.name}公安局"
        first = city.districts[0]
        for suffix, role, title in _CITY_DUTIES:
            unit, unit_name = (first.code, f"{bureau}{first.name}分局") if role == "officer" else (city.code, bureau)
            out.append(StaffSpec(f"{city.abbr}_{suffix}", f"{city.name}{title}", unit, unit_name, (role,)))
    hq = f"{PROVINCE_NAME}公安厅"
    out += [
        StaffSpec("sheng_appr", "省厅审批员", PROVINCE_CODE, hq, ("province_approver",), cleared_top_secret=True),
        StaffSpec("sheng_appr2", "省厅审批员二", PROVINCE_CODE, hq, ("province_approver",), cleared_top_secret=True),
        StaffSpec("sheng_inv", "省厅侦查员", PROVINCE_CODE, hq, ("investigator",)),
        StaffSpec("sheng_sysadmin", "系统管理员", PROVINCE_CODE, hq, ("system_admin",)),
        StaffSpec("sheng_secadmin", "安全管理员", PROVINCE_CODE, hq, ("security_admin",)),
        StaffSpec("sheng_audit", "审计管理员", PROVINCE_CODE, hq, ("auditor",)),
        StaffSpec("partner_customs", "海关缉私（外部共享）", PROVINCE_CODE, "岚江海关缉私局", ("partner",)),
    ]
    return out


__all__ = ["StaffSpec", "demo_staff"]
