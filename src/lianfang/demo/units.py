"""Jurisdictions (province → city → district → station area) and the police units over them.

Unit codes are 12 digits: the 6-digit division code + 6 digits — ``000000`` for a
bureau, ``020000`` criminal investigation, ``110000`` traffic police, and
``5NN000`` for the NN-th police station of a district.
"""

from __future__ import annotations

from dataclasses import dataclass

from lianfang.demo.draws import keyed, text_key
from lianfang.demo.geography import City, District, Province


@dataclass(frozen=True, slots=True)
class Unit:
    unit_code: str
    name: str
    unit_kind: str
    jurisdiction_code: str
    phone: str
    city_code: str


def _phone(area: str, code: str) -> str:
    d = keyed(0, text_key(code))
    return f"{area}-8{d.below(10_000_000):07d}"


def city_bureau(city: City) -> str:
    return f"{city.code}000000"


def district_bureau(district: District) -> str:
    return f"{district.code}000000"


def station_unit(district: District, number: int) -> str:
    return f"{district.code}5{number:02d}000"


def jurisdictions(province: Province) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [
        {"code": province.code, "name": province.name, "level": "province", "parent_code": None,
         "city_code": province.code}]
    for city in province.cities:
        rows.append({"code": city.code, "name": city.name, "level": "city", "parent_code": province.code,
                     "city_code": city.code})
        for d in city.districts:
            rows.append({"code": d.code, "name": d.name, "level": "district", "parent_code": city.code,
                         "city_code": city.code})
            rows += [{"code": s.code, "name": f"{s.name}辖区", "level": "station", "parent_code": d.code,
                      "city_code": city.code} for s in d.stations]
    return rows


def units(province: Province) -> list[Unit]:
    out = [Unit(f"{province.code}000000", f"{province.name}公安厅", "province_bureau", province.code,
                _phone("0791", province.code), province.code)]
    for city in province.cities:
        area = city.area_code

        def unit(code: str, name: str, kind: str, juris: str, city: City = city, area: str = area) -> Unit:
            return Unit(code, name, kind, juris, _phone(area, code), city.code)

        out.append(unit(city_bureau(city), f"{city.name}公安局", "city_bureau", city.code))
        out.append(unit(f"{city.code}020000", f"{city.name}公安局刑事侦查支队", "criminal_police", city.code))
        out.append(unit(f"{city.code}110000", f"{city.name}公安局交通警察支队", "traffic_police", city.code))
        for d in city.districts:
            out.append(unit(district_bureau(d), f"{city.name}公安局{d.name}分局", "district_bureau", d.code))
            out += [unit(station_unit(d, n), s.name, "station", s.code)
                    for n, s in enumerate(d.stations, start=1)]
    return out
