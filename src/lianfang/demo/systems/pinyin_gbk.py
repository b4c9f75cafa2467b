"""``pinyin-gbk-csv``: GBK CSV with pinyin-initial headers (GA/T 543 style), the oldest vendor.

Sex 1/2, dates ``YYYYMMDD``, times ``YYYYMMDDHHMMSS``, GA 24.8 colour tables, and the
15-digit ID numbers of people registered before the 1999 upgrade.
"""

from __future__ import annotations

from lianfang.demo.systems.base import TEXT, Code, Column, Const, DateCodec, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import CitizenIdCodec
from lianfang.demo.systems.spellings import GA248_BODY_COLOUR, GA248_PLATE_COLOUR
from lianfang.demo.timefmt import COMPACT, DATE_COMPACT

_TIME = DateTimeCodec(COMPACT)
_HPYS = Code("hpys", GA248_PLATE_COLOUR, fallback="9")
_CSYS = Code("csys", GA248_BODY_COLOUR, fallback="Z")
_UPDATED = Column("GXSJ", "_", Const("20261101020000"))  # export job's stamp: not a standard field

SYSTEM = System(
    key="pinyin-gbk-csv", vendor="zhxt", format="csv", extension="csv",
    source={"format": "csv", "encoding": "gbk", "delimiter": ","},
    formats=("%Y%m%d%H%M%S", "%Y%m%d"),
    layouts={
        "person": Layout("person", "RYXX", (
            Column("RYBH", "_src"),
            Column("GMSFHM", "citizen_id", CitizenIdCodec("citizen_id", "legacy15")),
            Column("XM", "name"), Column("XBDM", "sex"), Column("MZDM", "ethnicity"),
            Column("CSRQ", "birth_date", DateCodec(DATE_COMPACT)), Column("LXDH", "phone"),
            Column("HJDZ", "household_address"), Column("XZZ", "current_address"),
            Column("RYLB", "person_tag"), _UPDATED), source_id="RYBH"),
        "vehicle": Layout("vehicle", "JDCXX", (
            Column("XH", "_src"), Column("HPHM", "plate_no"), Column("HPZL", "plate_type"),
            Column("HPYS", "plate_color", _HPYS), Column("CSYS", "vehicle_color", _CSYS),
            Column("CLPP", "brand"), Column("SYR", "owner_name"),
            Column("SFZMHM", "owner_citizen_id", CitizenIdCodec("owner_citizen_id", "legacy15")),
            Column("LXDH", "owner_phone"), _UPDATED), source_id="XH"),
        "case": Layout("case", "AJXX", (
            Column("AJBH", "case_no"), Column("AJLB", "category"), Column("AJMC", "title"),
            Column("JYAQ", "summary"), Column("FASJ", "occurred_at", _TIME),
            Column("BASJ", "reported_at", _TIME), Column("AJZT", "status"),
            Column("FADQ", "division_code"), Column("FADD", "address"), Column("JD", "longitude"),
            Column("WD", "latitude"), Column("SSJE", "loss_amount"),
            Column("XYRSFZH", "suspect_citizen_id"), Column("SACPHM", "suspect_plate_no"),
            Column("ZBDW", "unit_code"), _UPDATED), source_id="AJBH"),
        "alert": Layout("alert", "YJXX", (
            Column("YJBH", "alert_no"), Column("YJLB", "alert_type"), Column("YJJB", "severity"),
            Column("YJBT", "title"), Column("YJNR", "content"), Column("FBSJ", "issued_at", _TIME),
            Column("YXQZ", "valid_until", _TIME), Column("SJHPHM", "target_plate_no"),
            Column("SJRYSFZH", "target_citizen_id"), Column("FBDW", "unit_code")), source_id="YJBH"),
        "help_request": Layout("help_request", "JJXX", (
            Column("JJBH", "request_no"), Column("JQLB", "category"),
            Column("JJSJ", "received_at", _TIME), Column("BJRXM", "caller_name"),
            Column("BJRDH", "caller_phone"), Column("SFDZ", "address"), Column("JD", "longitude"),
            Column("WD", "latitude"), Column("JQNR", "summary"), Column("CLZT", "status"),
            Column("CJDW", "unit_code")), source_id="JJBH"),
        "sighting": Layout("sighting", "GCJL", (
            Column("GCXH", "_src"), Column("KKBH", "device_id"), Column("GCSJ", "passed_at", _TIME),
            Column("HPHM", "plate_no"), Column("HPZL", "plate_type"),
            Column("HPYS", "plate_color", _HPYS), Column("CSYS", "vehicle_color", _CSYS),
            Column("CLSD", "speed_kmh"), Column("XSFX", "direction"),
            Column("CDH", "lane_no", TEXT, default="0")),
            consts={"kind": "vehicle"}, source_id="GCXH"),
    },
)
