"""``cn-utf8-csv``: UTF-8 CSV (with BOM) with Chinese headers and Chinese code words.

性别 男/女, 出生日期 ``YYYY/M/D``, 发案时间 ``YYYY年M月D日 H时M分``, phones ``138-1234-5678``,
plates ``赣A·12345``, and full-width digits in some IDs and plates.
"""

from __future__ import annotations

from lianfang.demo.systems.base import Code, Column, DateCodec, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import CitizenIdCodec, FullwidthPlateCodec, PhoneCodec, PlateCodec
from lianfang.demo.systems.spellings import (
    ZH_ALERT,
    ZH_BODY_COLOUR,
    ZH_CASE,
    ZH_CASE_STATUS,
    ZH_COLOUR,
    ZH_DIRECTION,
    ZH_ETHNIC,
    ZH_HELP,
    ZH_HELP_STATUS,
    ZH_PLATE_TYPE,
    ZH_SEVERITY,
    ZH_SEX,
    ZH_TAG,
)
from lianfang.demo.timefmt import CN_MINUTE, CN_SECOND, DATE_SLASH

_MINUTE = DateTimeCodec(CN_MINUTE)
_PHONE = PhoneCodec("hyphen")
_PLATE = PlateCodec("dot")
_PLATE_TYPE = Code("plate_type", ZH_PLATE_TYPE)
_PLATE_COLOUR = Code("plate_color", ZH_COLOUR, aliases={f"{v}色": k for k, v in ZH_COLOUR.items()})
_BODY_COLOUR = Code("vehicle_color", ZH_BODY_COLOUR, aliases={v: k for k, v in ZH_COLOUR.items()})

SYSTEM = System(
    key="cn-utf8-csv", vendor="jwpt", format="csv", extension="csv",
    source={"format": "csv", "encoding": "utf-8", "delimiter": ","}, bom=True,
    formats=("%Y/%m/%d", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分"),
    layouts={
        "person": Layout("person", "人员信息", (
            Column("人员编号", "_src"), Column("姓名", "name"),
            Column("公民身份号码", "citizen_id", CitizenIdCodec("citizen_id", "fullwidth")),
            Column("性别", "sex", Code("sex", ZH_SEX)), Column("民族", "ethnicity", Code("ethnicity", ZH_ETHNIC)),
            Column("出生日期", "birth_date", DateCodec(DATE_SLASH)), Column("联系电话", "phone", _PHONE),
            Column("户籍地址", "household_address"), Column("现住址", "current_address"),
            Column("人员类别", "person_tag", Code("person_tag", ZH_TAG))), source_id="人员编号"),
        "vehicle": Layout("vehicle", "机动车信息", (
            Column("号牌号码", "plate_no", FullwidthPlateCodec("plate_no")),
            Column("号牌种类", "plate_type", _PLATE_TYPE), Column("号牌颜色", "plate_color", _PLATE_COLOUR),
            Column("车身颜色", "vehicle_color", _BODY_COLOUR), Column("品牌型号", "brand"),
            Column("所有人", "owner_name"), Column("所有人身份证号", "owner_citizen_id"),
            Column("所有人电话", "owner_phone", _PHONE))),
        "case": Layout("case", "案件信息", (
            Column("案件编号", "case_no"), Column("案件类别", "category", Code("case_category", ZH_CASE)),
            Column("案件名称", "title"), Column("简要案情", "summary"),
            Column("发案时间", "occurred_at", _MINUTE), Column("报案时间", "reported_at", _MINUTE),
            Column("案件状态", "status", Code("case_status", ZH_CASE_STATUS)),
            Column("发案区划", "division_code"), Column("发案地点", "address"), Column("经度", "longitude"),
            Column("纬度", "latitude"), Column("损失金额", "loss_amount"),
            Column("嫌疑人身份证号", "suspect_citizen_id"), Column("涉案车辆号牌", "suspect_plate_no", _PLATE),
            Column("主办单位代码", "unit_code")), source_id="案件编号"),
        "alert": Layout("alert", "预警信息", (
            Column("预警编号", "alert_no"), Column("预警类别", "alert_type", Code("alert_type", ZH_ALERT)),
            Column("预警级别", "severity", Code("alert_severity", ZH_SEVERITY)), Column("标题", "title"),
            Column("预警内容", "content"), Column("发布时间", "issued_at", _MINUTE),
            Column("有效期至", "valid_until", _MINUTE), Column("涉及号牌", "target_plate_no", _PLATE),
            Column("涉及人员身份证号", "target_citizen_id"), Column("发布单位", "unit_code"))),
        "help_request": Layout("help_request", "求助信息", (
            Column("接警单号", "request_no"), Column("求助类别", "category", Code("help_category", ZH_HELP)),
            Column("接警时间", "received_at", _MINUTE), Column("求助人", "caller_name"),
            Column("求助人电话", "caller_phone", _PHONE), Column("事发地点", "address"),
            Column("经度", "longitude"), Column("纬度", "latitude"), Column("求助内容", "summary"),
            Column("处理状态", "status", Code("help_status", ZH_HELP_STATUS)),
            Column("处置单位", "unit_code"))),
        "sighting": Layout("sighting", "过车记录", (
            Column("过车序号", "_src"), Column("卡口编号", "device_id"),
            Column("过车时间", "passed_at", DateTimeCodec(CN_SECOND)),
            Column("号牌号码", "plate_no", FullwidthPlateCodec("plate_no")),
            Column("号牌种类", "plate_type", _PLATE_TYPE), Column("号牌颜色", "plate_color", _PLATE_COLOUR),
            Column("车身颜色", "vehicle_color", _BODY_COLOUR), Column("车速", "speed_kmh"),
            Column("行驶方向", "direction", Code("direction", ZH_DIRECTION)), Column("车道号", "lane_no")),
            consts={"kind": "vehicle"}, source_id="过车序号"),
    },
)
