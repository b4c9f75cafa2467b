"""Roads, residential compounds and addresses, composed from the city's own names.

Addresses are never Faker's (its zh_CN addresses name real cities): they read
``岚江省滨江市东湖区人民路188号`` or ``…锦绣花园3栋2单元1402室``.
"""

from __future__ import annotations

from typing import Final

from lianfang.demo.draws import Draws
from lianfang.demo.geography import PROVINCE_NAME, City, District

ROADS: Final = tuple(
    "人民路 解放路 中山路 建设路 胜利路 文化路 长征路 八一大道 迎宾大道 滨江大道 环城路 新华路 和平路 "
    "青年路 五一路 光明路 东风路 工业大道 学府路 站前路 府前街 广场路 沿江路 湖滨路 体育路 金融街 "
    "科技大道 朝阳路 北京路 上海路 南京路 井冈山大道 庐山路 赣江路 抚河路 红谷大道".split())
HIGHWAYS: Final = ("G105国道", "G320国道", "G319国道", "S101省道", "沪昆高速", "大广高速", "济广高速")
COMPOUNDS: Final = tuple(
    f"{a}{b}" for a in "幸福 阳光 锦绣 金色 翠苑 书香 和谐 康乐 紫金 山水 世纪 丽景 江景 华府".split()
    for b in ("花园", "小区", "家园", "新村"))
PLACES: Final = ("商场", "超市", "菜市场", "小区", "停车场", "网吧", "车站", "学校门口", "医院", "公园")


def street(d: Draws) -> str:
    return f"{d.pick(ROADS)}{1 + d.below(399)}号"


def home_address(d: Draws, city: City, district: District) -> str:
    return (f"{PROVINCE_NAME}{city.name}{district.name}{d.pick(COMPOUNDS)}{1 + d.below(30)}栋"
            f"{1 + d.below(4)}单元{1 + d.below(30)}{1 + d.below(4):02d}室")


def street_address(d: Draws, city: City, district: District) -> str:
    return f"{PROVINCE_NAME}{city.name}{district.name}{street(d)}"


def place_address(d: Draws, city: City, district: District) -> str:
    """Where something happened: ``滨江市东湖区人民路188号附近超市``."""
    return f"{city.name}{district.name}{street(d)}附近{d.pick(PLACES)}"
