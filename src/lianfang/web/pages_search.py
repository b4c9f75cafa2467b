"""一键查询 search and the entity pages (person, vehicle, case, …), through the same services as the API.

The search is a POST form: citizen IDs, phone numbers and names are personal data and
never travel in a URL (paging posts the query again). Entity pages take the purpose and
case number as query parameters — they are not personal — so every row links to its
page carrying them. Every row is shown as the projection made it: in full, as a masked
hit with "request access", or only counted; the services write the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import Response

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.audit import AuditEventRefused, AuditUnavailable
from lianfang.platform import Platform
from lianfang.policy.decision import Purpose
from lianfang.search import Unrecognised
from lianfang.search.entities import ENTITY_CATEGORIES
from lianfang.search.export import export_search
from lianfang.web.i18n import add_labels, add_texts
from lianfang.web.page import Posting, Viewer, Viewing, city_label, forbid, reads_data
from lianfang.web.pages_access import request_link

router = APIRouter(include_in_schema=False)

#: fields shown on a result row, per category (the entity page shows all of them)
SUMMARY: dict[str, tuple[str, ...]] = {
    "person": ("name", "citizen_id", "sex", "birth_date", "person_tag"),
    "vehicle": ("plate_no", "plate_type", "brand", "vehicle_color", "owner_name"),
    "case": ("case_no", "category", "title", "occurred_at", "status", "suspect_plate_no"),
    "sighting": ("passed_at", "plate_no", "device_id", "speed_kmh", "direction", "kind"),
    "alert": ("alert_no", "alert_type", "severity", "title", "issued_at", "target_plate_no"),
    "help_request": ("request_no", "category", "received_at", "summary", "status"),
    "device": ("device_id", "name", "device_kind", "road_name"),
}
#: refusal reasons (from the policy) that a form can put right
REFUSAL_TEXT = {
    "deny.purpose_missing": "refused_purpose_missing",
    "deny.purpose_unknown": "refused_purpose_unknown",
    "deny.case_number_required": "refused_case_no",
    "deny.no_data_access": "forbidden",
}

add_texts({
    "search_title": {"zh": "一键查询", "en": "Search"},
    "search_box": {"zh": "查询内容", "en": "Query"},
    "search_hint": {"zh": "身份证号、车牌、手机号、案件编号、设备编号或姓名（可加城市、出生年份）",
                    "en": "Citizen ID, plate, mobile, case number, device ID or name (optionally city, birth year)"},
    "search_help": {
        "zh": "同时查询全省 16 个市。查询内容以表单提交，不出现在网址中；用途和案件编号记入审计日志。"
              "敏感数据（含行踪轨迹）须填写案件编号。",
        "en": "Searches all 16 cities at once. The query is sent as a form, never in a web address; the purpose "
              "and case number are recorded in the audit trail. Sensitive data (movements included) needs a case "
              "number.",
    },
    "case_no_hint": {"zh": "如 A3601002026110001", "en": "e.g. A3601002026110001"},
    "search_go": {"zh": "查询", "en": "Search"},
    "search_kind": {"zh": "识别为", "en": "Read as"},
    "no_results": {"zh": "未找到匹配记录。", "en": "No matching records."},
    "results_total": {"zh": "共 {n} 条", "en": "{n} in all"},
    "withheld_rows": {"zh": "另有 {n} 条匹配记录超出你的权限，未显示。",
                      "en": "{n} more matching records are beyond your access and not shown."},
    "needs_case_rows": {"zh": "其中 {n} 条填写案件编号后可作为脱敏结果显示。",
                        "en": "{n} of them would show as masked hits with a case number."},
    "capped_rows": {"zh": "同名过多，仅核对了最新 1000 条的出生年份。",
                    "en": "Too many people of that name: the birth year was checked on the newest 1,000 only."},
    "rec_access": {"zh": "访问", "en": "Access"},
    "access_allow": {"zh": "完整", "en": "Full"},
    "access_mask": {"zh": "脱敏", "en": "Masked"},
    "masked_value": {"zh": "已脱敏", "en": "masked"},
    "withheld_fields": {"zh": "未显示字段", "en": "Fields withheld"},
    "rec_lineage": {"zh": "来源", "en": "Source"},
    "lineage_file": {"zh": "文件 {file} 第 {pos} 条", "en": "file {file}, item {pos}"},
    "match_sound": {"zh": "音近", "en": "sounds alike"},
    "page_of": {"zh": "第 {page} 页，共 {pages} 页", "en": "Page {page} of {pages}"},
    "all_categories": {"zh": "全部类别", "en": "All categories"},
    "refused_purpose_missing": {"zh": "请选择查询用途。", "en": "Please choose the purpose of the search."},
    "refused_purpose_unknown": {"zh": "未知的查询用途。", "en": "Unknown purpose."},
    "refused_case_no": {"zh": "敏感数据须填写案件编号。", "en": "Sensitive data needs a case number."},
    "query_unrecognised": {"zh": "无法识别查询内容", "en": "The query was not recognised"},
    "entity_title": {"zh": "{category}详情", "en": "{category} record"},
    "record_fields": {"zh": "记录内容", "en": "Record"},
    "linked_records": {"zh": "关联记录", "en": "Linked records"},
    "linked_by": {"zh": "关联字段", "en": "Linked by"},
    "no_linked": {"zh": "无关联记录。", "en": "No linked records."},
    "open_record": {"zh": "详情", "en": "Open"},
    "view_trajectory": {"zh": "查看轨迹", "en": "View trajectory"},
    "carry_purpose": {"zh": "查看用途", "en": "Viewing for"},
    "change_purpose": {"zh": "更新", "en": "Update"},
    "rec_field": {"zh": "字段", "en": "Field"},
    "rec_value": {"zh": "内容", "en": "Value"},
    "other_cities_files": {"zh": "各市档案", "en": "Files from every city"},
    "export_group": {"zh": "导出 CSV", "en": "Export CSV"},
    "export_group_note": {"zh": "导出本类别全部结果（至多 {n} 条），内容与页面所见一致，记入审计日志。",
                          "en": "Exports every result of this category (at most {n}), exactly as shown; "
                                "recorded in the audit trail."},
})  # fmt: skip

add_labels("category", {
    "person": ("人员", "Persons"),
    "vehicle": ("车辆", "Vehicles"),
    "case": ("案件", "Cases"),
    "sighting": ("过车/抓拍记录", "Sightings"),
    "alert": ("预警", "Alerts"),
    "help_request": ("求助警情", "Calls for help"),
    "device": ("卡口设备", "Devices"),
})  # fmt: skip
add_labels("query_kind", {
    "citizen_id": ("身份证号", "Citizen ID"),
    "plate": ("车牌", "Plate"),
    "phone": ("手机号", "Phone"),
    "case_no": ("案件编号", "Case number"),
    "device_id": ("设备编号", "Device ID"),
    "name": ("姓名", "Name"),
})  # fmt: skip
add_labels("access", {"allow": ("完整", "Full"), "mask": ("脱敏", "Masked")})


# -- showing projected rows --------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    name: str
    label: str
    value: str
    masked: bool = False


def _shown(plat: Platform, category: str, name: str, value: Any, lang: str) -> str:
    """A value as shown: code-table values by their name, times without the ISO 'T'."""
    if value is None:
        return ""
    try:
        fld = plat.standard.category(category).field(name)
    except KeyError:
        return str(value)
    if fld.code_table and fld.code_table in plat.standard.code_tables:
        code = plat.standard.code_tables[fld.code_table].codes.get(str(value))
        if code is not None:
            return f"{code.get(lang)}"
    if fld.type == "datetime" and isinstance(value, str):
        return value.replace("T", " ")[:19]
    return str(value)


def cells(plat: Platform, item: dict[str, Any], lang: str, names: tuple[str, ...] | None = None) -> list[Cell]:
    """The fields of a projected row to show (``names`` or all, in the standard's order), values or masked."""
    category = item["category"]
    cat = plat.standard.category(category)
    order = names if names is not None else tuple(cat.fields)
    out = []
    for name in order:
        if name not in cat.fields or name == "city_code":
            continue
        label = cat.fields[name].label.get(lang)
        if name in item["values"] and item["values"][name] not in (None, ""):
            out.append(Cell(name, label, _shown(plat, category, name, item["values"][name], lang)))
        elif name in item["masked"]:
            out.append(Cell(name, label, str(item["masked"][name]), masked=True))
    return out


def withheld_labels(plat: Platform, item: dict[str, Any], lang: str) -> list[str]:
    cat = plat.standard.category(item["category"])
    return [cat.fields[f].label.get(lang) if f in cat.fields else f for f in item.get("withheld", [])]


def access_link(item: dict[str, Any], purpose: Purpose) -> str | None:
    """The prefilled access-request form for a masked row (or one with withheld fields)."""
    ask = item.get("request_access")
    if not ask:
        return None
    return request_link(owner_city=ask["owner_city"], level=ask["level"], scope=ask["scope"],
                        keys=",".join(ask["keys"]), purpose=purpose.code, case_no=purpose.case_no or "")


def entity_link(category: str, record_id: int, purpose: Purpose) -> str:
    """An entity page, carrying purpose and case number (not personal data)."""
    query = {k: v for k, v in (("purpose", purpose.code), ("case_no", purpose.case_no or "")) if v}
    return f"/entities/{category}/{record_id}" + (f"?{urlencode(query)}" if query else "")


def trajectory_link(plate: str, purpose: Purpose, **window: str) -> str:
    """The trajectory page of a plate (plates are not personal data)."""
    query = {"plate": plate, "purpose": purpose.code, "case_no": purpose.case_no or "", **window}
    return "/trajectories?" + urlencode({k: v for k, v in query.items() if v})


def person_trajectory_link(record_id: int, purpose: Purpose, **window: str) -> str:
    """The trajectory page of a person's vehicles, by the record ID of the file (never a citizen ID)."""
    query = {"purpose": purpose.code, "case_no": purpose.case_no or "", **window}
    rest = urlencode({k: v for k, v in query.items() if v})
    return f"/trajectories/person/{record_id}" + (f"?{rest}" if rest else "")


def row_context(plat: Platform, item: dict[str, Any], purpose: Purpose, lang: str,
                names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """What a template needs to show one projected row."""
    category = item["category"]
    return {
        "item": item, "category": category, "city": city_label(plat, item["city_code"]),
        "cells": cells(plat, item, lang, names if names is not None else SUMMARY.get(category)),
        "withheld": withheld_labels(plat, item, lang), "request": access_link(item, purpose),
        "href": entity_link(category, item["id"], purpose) if category in ENTITY_CATEGORIES else None,
        "lineage": item.get("lineage"),
        "sound": str(item.get("match", "")).endswith("~sound"),
    }  # fmt: skip


def group_context(plat: Platform, group: dict[str, Any], purpose: Purpose, lang: str) -> dict[str, Any]:
    size = max(int(group["size"]), 1)
    return {
        **group, "rows": [row_context(plat, i, purpose, lang) for i in group["items"]],
        "pages": max(1, -(-int(group["total"]) // size)),
    }  # fmt: skip


def refusal_message(v: Viewer, reason: str) -> str:
    return v.t[REFUSAL_TEXT.get(reason, "forbidden")]


def _readers_only(v: Viewer) -> None:
    if not reads_data(v):
        raise forbid(v, [])


# -- the search page ---------------------------------------------------------------------------


def _form(v: Viewer, **given: Any) -> dict[str, Any]:
    values = {"q": "", "purpose": "case_investigation", "case_no": "", "purpose_text": "", "category": ""}
    values.update({k: val for k, val in given.items() if val})
    return values


def _search_page(v: Viewer, form: dict[str, Any], *, status: int = 200, **context: Any) -> Response:
    return v.render("search.html", status=status, f=form, purposes=list(v.plat.policy.purposes),
                    export_max=v.plat.settings.search_export_max_rows, **context)


@router.get("/search")
def search_form(v: Viewing, purpose: str = "", case_no: str = "") -> Response:
    """The empty form (purpose and case number may be prefilled; the query never comes in a URL)."""
    _readers_only(v)
    return _search_page(v, _form(v, purpose=purpose[:48], case_no=case_no[:64]))


@router.post("/search")
def search(
    v: Posting,
    q: str = Form("", max_length=80),
    purpose: str = Form("", max_length=48),
    case_no: str = Form("", max_length=64),
    purpose_text: str = Form("", max_length=200),
    category: str = Form("", max_length=40),
    page: int = Form(1, ge=1, le=10_000),
) -> Response:
    _readers_only(v)
    form = _form(v, q=q, purpose=purpose, case_no=case_no.strip(), purpose_text=purpose_text, category=category)
    form["purpose"] = purpose  # an empty choice stays empty (and is refused below)
    if category and category not in v.plat.standard.categories:
        return _search_page(v, form, status=422, error=v.t["err_invalid"])
    if not q.strip():
        return _search_page(v, form, status=422, error=v.t["query_unrecognised"])
    wanted = Purpose(purpose, purpose_text, case_no.strip() or None)
    try:
        result = v.plat.searcher.search(
            v.user, q, wanted, now_ms=now_ms(), client=v.client, category=category or None,
            page=page if category else 1, size=v.plat.settings.search_page_size,
        )  # fmt: skip
    except Unrecognised as exc:  # the message never repeats what was typed
        return _search_page(v, form, status=422, error=v.t["query_unrecognised"], error_detail=str(exc))
    except RequestRefused as exc:
        return _search_page(v, form, status=403, error=refusal_message(v, exc.reason))
    except AuditUnavailable:
        return _search_page(v, form, status=503, error=v.t["err_audit"])
    except AuditEventRefused:  # a citizen ID typed as the case number, say: the form again, saying so,
        form.update(case_no="", purpose_text="")  # without showing it again
        return _search_page(v, form, status=400, error=v.t["err_unrecordable"])
    body = result.as_dict()
    groups = [group_context(v.plat, g, wanted, v.lang) for g in body["groups"]]
    return _search_page(v, form, kind=body["kind"], groups=groups, searched=True, paged=category or None,
                        plate=body.get("value") if body["kind"] == "plate" else None,
                        trajectory=trajectory_link(body["value"], wanted, **_seen_window(v.plat, body["groups"]))
                        if body["kind"] == "plate" else None)


@router.post("/search/export")
def search_export(
    v: Posting,
    q: str = Form("", max_length=80),
    purpose: str = Form("", max_length=48),
    case_no: str = Form("", max_length=64),
    purpose_text: str = Form("", max_length=200),
    category: str = Form("", max_length=40),
) -> Response:
    """One result group as a CSV file, each row as shown (the query is posted again, never put in a URL)."""
    _readers_only(v)
    form = _form(v, q=q, purpose=purpose, case_no=case_no.strip(), purpose_text=purpose_text, category=category)
    if category not in v.plat.standard.categories or not q.strip():
        return _search_page(v, form, status=422, error=v.t["err_invalid"])
    try:
        export = export_search(
            v.plat.searcher, v.user, q, Purpose(purpose, purpose_text, case_no.strip() or None), category=category,
            limit=v.plat.settings.search_export_max_rows, now_ms=now_ms(), tz=v.plat.tz, client=v.client,
        )  # fmt: skip
    except Unrecognised as exc:
        return _search_page(v, form, status=422, error=v.t["query_unrecognised"], error_detail=str(exc))
    except RequestRefused as exc:
        return _search_page(v, form, status=403, error=refusal_message(v, exc.reason))
    except AuditUnavailable:
        return _search_page(v, form, status=503, error=v.t["err_audit"])
    return Response(export.text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'})


def _seen_window(plat: Platform, groups: list[dict[str, Any]]) -> dict[str, str]:
    """The days of the readable sightings a search showed (so the trajectory link opens on them); none when
    no sighting was readable (the trajectory's default window then applies)."""
    seen = sorted(str(i["values"]["passed_at"]) for g in groups if g["category"] == "sighting"
                  for i in g["items"] if i["access"] == "allow" and i["values"].get("passed_at"))
    if not seen:
        return {}
    first, last = date.fromisoformat(seen[0][:10]), date.fromisoformat(seen[-1][:10]) + timedelta(days=1)
    first = max(first, last - timedelta(days=plat.settings.track_max_days))
    return {"since": first.isoformat(), "until": last.isoformat()}


# -- entity pages ------------------------------------------------------------------------------


@router.get("/entities/{category}/{record_id}")
def entity(category: str, record_id: IdPath, v: Viewing, purpose: str = "", case_no: str = "") -> Response:
    _readers_only(v)
    if category not in ENTITY_CATEGORIES:
        raise v.refuse(404, "not_found_title")
    wanted = Purpose(purpose[:48], "", case_no.strip()[:64] or None)
    form = {"purpose": wanted.code, "case_no": wanted.case_no or ""}
    try:
        page = v.plat.entities.view(v.user, category, record_id, wanted, now_ms=now_ms(), client=v.client,
                                    size=v.plat.settings.search_page_size)
    except RecordHidden:
        raise v.refuse(404, "not_found_title") from None
    except RequestRefused as exc:
        return v.render("entity.html", status=403, f=form, purposes=list(v.plat.policy.purposes),
                        category=category, record_id=record_id, error=refusal_message(v, exc.reason))
    except AuditUnavailable:
        raise v.refuse(503, "error_title", v.t["err_audit"]) from None
    record = page["record"]
    main = row_context(v.plat, record, wanted, v.lang, names=tuple(v.plat.standard.category(category).fields))
    related = [group_context(v.plat, g, wanted, v.lang) for g in page["related"]]
    fields = v.plat.standard.category(category).fields
    for g in related:
        for row in g["rows"]:  # the field of this record that links the row to it, by its name
            link = row["item"].get("link")
            row["link"] = fields[link].label.get(v.lang) if link in fields else link
    plate = record["values"].get("plate_no") if category == "vehicle" else None
    window = _seen_window(v.plat, page["related"])
    trajectory = (trajectory_link(plate, wanted, **window) if plate else
                  person_trajectory_link(record_id, wanted, **window) if category == "person" else None)
    return v.render("entity.html", f=form, purposes=list(v.plat.policy.purposes), category=category,
                    record_id=record_id, main=main, related=related, trajectory=trajectory)


__all__ = ["SUMMARY", "access_link", "cells", "entity_link", "person_trajectory_link", "router",
           "row_context", "trajectory_link"]
