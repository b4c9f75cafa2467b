"""``xlsx``: Excel workbooks from an office system, one sheet per export, Chinese sheet names.

Some date columns are real Excel dates (出生日期, 发案时间, 发布时间), others text
(``2026/10/3 14:05:09``); IDs and phones are text cells; colour codes are number cells.
"""

from __future__ import annotations

from lianfang.demo.systems.base import Code, Column, DateCodec, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import IntCell
from lianfang.demo.systems.spellings import (
    ZH_ALERT,
    ZH_CASE,
    ZH_CASE_STATUS,
    ZH_DIRECTION,
    ZH_ETHNIC_SHORT,
    ZH_HELP,
    ZH_HELP_STATUS,
    ZH_PLATE_TYPE,
    ZH_SEVERITY,
    ZH_SEX,
    ZH_TAG,
)
from lianfang.demo.timefmt import DATE_EXCEL, EXCEL, SLASH

_TEXT_TIME = DateTimeCodec(SLASH)
_CELL_TIME = DateTimeCodec(EXCEL)
_PLATE_TYPE = Code("plate_type", ZH_PLATE_TYPE)

SYSTEM = System(
    key="xlsx", vendor="bgxt", format="xlsx", extension="xlsx",
    source={"format": "xlsx"}, formats=("%Y/%m/%d %H:%M:%S",), rows_per_file=100_000,
    layouts={
        "person": Layout("person", "人员信息", (
            Column("序号", "_src"), Column("姓名", "name"), Column("身份证号", "citizen_id"),
            Column("性别", "sex", Code("sex", ZH_SEX)),
            Column("民族", "ethnicity", Code("ethnicity", ZH_ETHNIC_SHORT)),
            Column("出生日期", "birth_date", DateCodec(DATE_EXCEL)), Column("手机号码", "phone"),
            Column("户籍地址", "household_address"), Column("现住地址", "current_address"),
            Column("人员标签", "person_tag", Code("person_tag", ZH_TAG))),
            sheet="人员信息", source_id="序号"),
        "vehicle": Layout("vehicle", "机动车", (
            Column("序号", "_src"), Column("车牌号码", "plate_no"), Column("号牌种类", "plate_type", _PLATE_TYPE),
            Column("号牌颜色", "plate_color", IntCell()), Column("车身颜色", "vehicle_color", IntCell()),
            Column("品牌", "brand"), Column("车主姓名", "owner_name"), Column("车主身份证号", "owner_citizen_id"),
            Column("车主电话", "owner_phone")), sheet="机动车", source_id="序号"),
        "case": Layout("case", "案件", (
            Column("案件编号", "case_no"), Column("案件类别", "category", Code("case_category", ZH_CASE)),
            Column("案件名称", "title"), Column("案情摘要", "summary"), Column("发案时间", "occurred_at", _CELL_TIME),
            Column("报案时间", "reported_at", _TEXT_TIME),
            Column("案件状态", "status", Code("case_status", ZH_CASE_STATUS)),
            Column("区划代码", "division_code"), Column("发案地址", "address"), Column("经度", "longitude"),
            Column("纬度", "latitude"), Column("损失金额", "loss_amount"),
            Column("嫌疑人身份证", "suspect_citizen_id"), Column("嫌疑车牌", "suspect_plate_no"),
            Column("主办单位", "unit_code")), sheet="案件信息", source_id="案件编号"),
        "alert": Layout("alert", "预警", (
            Column("预警编号", "alert_no"), Column("预警类别", "alert_type", Code("alert_type", ZH_ALERT)),
            Column("预警级别", "severity", Code("alert_severity", ZH_SEVERITY)), Column("标题", "title"),
            Column("内容", "content"), Column("发布时间", "issued_at", _CELL_TIME),
            Column("截止时间", "valid_until", _TEXT_TIME), Column("车牌", "target_plate_no"),
            Column("身份证号", "target_citizen_id"), Column("发布单位", "unit_code")), sheet="预警信息"),
        "help_request": Layout("help_request", "接处警", (
            Column("警情编号", "request_no"), Column("警情类别", "category", Code("help_category", ZH_HELP)),
            Column("报警时间", "received_at", _TEXT_TIME), Column("报警人", "caller_name"),
            Column("联系电话", "caller_phone"), Column("地址", "address"), Column("经度", "longitude"),
            Column("纬度", "latitude"), Column("警情内容", "summary"),
            Column("处理状态", "status", Code("help_status", ZH_HELP_STATUS)), Column("处警单位", "unit_code")),
            sheet="接处警"),
        "sighting": Layout("sighting", "过车", (
            Column("序号", "_src"), Column("卡口编号", "device_id"), Column("过车时间", "passed_at", _TEXT_TIME),
            Column("车牌号码", "plate_no"), Column("号牌种类", "plate_type", _PLATE_TYPE),
            Column("号牌颜色", "plate_color", IntCell()), Column("车身颜色", "vehicle_color", IntCell()),
            Column("速度", "speed_kmh"), Column("方向", "direction", Code("direction", ZH_DIRECTION)),
            Column("车道", "lane_no")), consts={"kind": "vehicle"}, sheet="过车记录", source_id="序号"),
    },
)
