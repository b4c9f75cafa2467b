"""Cases, risk alerts and calls for help, in time order per city.

Times are spread over the window one per equal slot (so each file reads in time
order without sorting) and fall on whole minutes: some systems record minutes only.
Case numbers are ``A`` + the handling unit's 12-digit code + ``YYYYMM`` + a 4-digit
serial per unit and month (23 characters). 滨江's case file carries the story's thefts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from lianfang.demo.draws import Draws, stage_random
from lianfang.demo.geography import City, District, sample_point
from lianfang.demo.people import mobile
from lianfang.demo.places import place_address, street
from lianfang.demo.sink import Sink
from lianfang.demo.story import THIEF_CITY, StoryPlan
from lianfang.demo.timefmt import iso, parts
from lianfang.demo.units import city_bureau, district_bureau, station_unit
from lianfang.demo.vehicles import vehicle
from lianfang.demo.world import World

_CASES = (("0101", 30), ("0102", 12), ("0103", 5), ("0201", 3), ("0301", 14), ("0302", 12), ("0401", 6),
          ("0501", 3), ("0601", 6), ("0701", 5), ("9999", 4))
_CASE_WORDS = {"0101": "盗窃", "0102": "入室盗窃", "0103": "盗窃机动车", "0201": "抢劫", "0301": "诈骗",
               "0302": "电信网络诈骗", "0401": "故意伤害", "0501": "贩卖毒品", "0601": "交通肇事",
               "0701": "寻衅滋事", "9999": "其他"}
_LOSS = {"0101", "0102", "0103", "0201", "0301", "0302"}
_CASE_STATUS = (("10", 25), ("20", 40), ("30", 25), ("40", 7), ("90", 3))
_ALERTS = (("01", 30), ("02", 30), ("03", 10), ("04", 15), ("05", 5), ("99", 10))
_SEVERITY = (("1", 5), ("2", 15), ("3", 40), ("4", 40))
_HELP = (("10", 15), ("20", 25), ("30", 20), ("40", 25), ("50", 10), ("99", 5))
_HELP_STATUS = (("1", 10), ("2", 20), ("3", 30), ("4", 40))
_HELP_WORDS = {"10": "报称家中被盗，门锁有撬动痕迹", "20": "报称有人在路边打架斗殴", "30": "报称两车追尾，无人员受伤",
               "40": "报称老人走失，身穿深色外套", "50": "报称与邻居因噪音发生纠纷", "99": "报称发现可疑物品"}


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    roll = rng.randrange(sum(w for _, w in table))
    for code, weight in table:
        if roll < weight:
            return code
        roll -= weight
    return table[-1][0]


def _times(world: World, rng: random.Random, count: int) -> Iterator[int]:
    """One whole-minute time in each of ``count`` equal slots of the window."""
    span = world.t1 - world.t0
    for i in range(count):
        start, end = world.t0 + span * i // count, world.t0 + span * (i + 1) // count
        t = start + rng.randrange(max(1, end - start))
        yield t - t % 60


def _clamp(world: World, t: int) -> int:
    return min(t, world.t1 - 60)


def _yyyymmdd(t: int) -> str:
    y, m, d, *_ = parts(t)
    return f"{y:04d}{m:02d}{d:02d}"


def _place(rng: random.Random, city: City) -> tuple[District, tuple[float, float]]:
    district = rng.choice(city.districts)
    return district, sample_point(city.polygon, rng, district.centre, 0.08)


class _CaseNumbers:
    """``A`` + unit code + ``YYYYMM`` + a 4-digit serial per unit and month."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def __call__(self, unit: str, t: int) -> str:
        key = unit + _yyyymmdd(t)[:6]
        self._last[key] = self._last.get(key, 0) + 1
        return f"A{key}{self._last[key]:04d}"


def export_cases(world: World, story: StoryPlan) -> None:
    number = _CaseNumbers()
    story_record: list[dict[str, Any]] = []

    def emit_story_case(sink: Sink, case: dict[str, Any]) -> None:
        rec = {k: v for k, v in case.items() if not k.startswith("_")}
        rec.update(case_no=number(case["_unit"], case["occurred_at"]), unit_code=case["_unit"],
                   _src=sink.position + 1)
        position = sink.emit(rec, protected=True)
        story_record.append({**_story_view(rec), "file": sink.file, "position": position})

    for city in world.province.cities:
        rng = stage_random(world.seed, f"cases/{city.code}")
        sink = world.sink(world.own(city), "case")
        waiting = list(story.cases) if city.index == THIEF_CITY else []  # in time order
        for t in _times(world, rng, world.scale.cases):
            while waiting and waiting[0]["occurred_at"] <= t:
                emit_story_case(sink, waiting.pop(0))
            rec = _case(world, rng, city, t, number)
            rec["_src"] = sink.position + 1
            sink.emit(rec)
        for case in waiting:
            emit_story_case(sink, case)
        sink.close()
        world.report("cases", city.index, len(world.province.cities))
    story.record["cases"] = story_record


def _story_view(rec: dict[str, Any]) -> dict[str, Any]:
    view = {k: rec[k] for k in ("case_no", "category", "title", "division_code", "address", "longitude",
                                "latitude", "unit_code", "suspect_plate_no")}
    view.update(occurred_at=iso(rec["occurred_at"]), reported_at=iso(rec["reported_at"]))
    return view


def _case(world: World, rng: random.Random, city: City, t: int, number: _CaseNumbers) -> dict[str, Any]:
    district, point = _place(rng, city)
    category = _weighted(rng, _CASES)
    unit = station_unit(district, 1 + rng.randrange(len(district.stations)))
    d = Draws(rng.getrandbits(64))
    road = street(d)
    word = _CASE_WORDS[category]
    suspect = plate = None
    if rng.random() < 0.15:
        suspect = world.people.person(city.index, rng.randrange(world.people.home)).citizen_id
    if category in ("0101", "0102", "0103", "0201") and rng.random() < 0.1:
        plate = vehicle(world.seed, city.index, city.plate_letter, rng.randrange(world.scale.vehicles)).plate_no
    return {
        "case_no": number(unit, t), "category": category, "title": f"{district.name}{road}{word}案",
        "summary": f"{district.name}{road}发生一起{word}案件，报案人已制作笔录，民警正在调查。",
        "occurred_at": t, "reported_at": _clamp(world, t + rng.randrange(1, 48 * 60) * 60),
        "status": _weighted(rng, _CASE_STATUS), "division_code": district.code,
        "address": place_address(d, city, district), "longitude": point[0], "latitude": point[1],
        "loss_amount": rng.randrange(2, 2000) * 50 if category in _LOSS else None,
        "suspect_citizen_id": suspect, "suspect_plate_no": plate, "unit_code": unit,
    }


def export_alerts(world: World) -> None:
    for city in world.province.cities:
        rng = stage_random(world.seed, f"alerts/{city.code}")
        sink = world.sink(world.own(city), "alert")
        for n, t in enumerate(_times(world, rng, world.scale.alerts), start=1):
            district = rng.choice(city.districts)
            kind = _weighted(rng, _ALERTS)
            plate = person = None
            if kind == "04":
                plate = vehicle(world.seed, city.index, city.plate_letter,
                                rng.randrange(world.scale.vehicles)).plate_no
            if kind == "03":
                person = world.people.person(city.index, rng.randrange(world.people.home)).citizen_id
            title = {"01": f"{district.name}近期盗窃案件高发预警", "02": "警惕冒充客服退款类电信网络诈骗",
                     "03": f"在逃人员协查预警（{n}号）", "04": f"可疑车辆{plate}布控预警",
                     "05": f"{district.name}人员聚集风险预警", "99": "节假日期间治安风险提示"}[kind]
            sink.emit({
                "alert_no": f"YJ{city.code}{_yyyymmdd(t)}{n:04d}", "alert_type": kind,
                "severity": _weighted(rng, _SEVERITY), "title": title,
                "content": f"{title}。请各单位加强巡逻防控，发现情况及时上报{city.name}公安局指挥中心。",
                "issued_at": t, "valid_until": _clamp(world, t + rng.randrange(1, 15) * 86_400),
                "target_plate_no": plate, "target_citizen_id": person,
                "unit_code": city_bureau(city) if rng.random() < 0.5 else district_bureau(district),
                "_src": n,
            })
        sink.close()
        world.report("alerts", city.index, len(world.province.cities))


def export_help_requests(world: World) -> None:
    people = world.people
    for city in world.province.cities:
        rng = stage_random(world.seed, f"help/{city.code}")
        sink = world.sink(world.own(city), "help_request")
        for n, t in enumerate(_times(world, rng, world.scale.help_requests), start=1):
            district, point = _place(rng, city)
            category = _weighted(rng, _HELP)
            d = Draws(rng.getrandbits(64))
            if rng.random() < 0.7:
                caller = people.person(city.index, rng.randrange(people.home))
                name, phone = caller.name, caller.phone
            else:
                name, phone = None, mobile(d)
            sink.emit({
                "request_no": f"JJ{city.code}{_yyyymmdd(t)}{n:05d}", "category": category, "received_at": t,
                "caller_name": name, "caller_phone": phone, "address": place_address(d, city, district),
                "longitude": point[0], "latitude": point[1], "summary": _HELP_WORDS[category],
                "status": _weighted(rng, _HELP_STATUS),
                "unit_code": station_unit(district, 1 + rng.randrange(len(district.stations))),
                "_src": n,
            })
        sink.close()
        world.report("help_requests", city.index, len(world.province.cities))
