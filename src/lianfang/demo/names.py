"""Chinese names: pools drawn once from Faker (zh_CN, seeded), then picked by index.

Faker is far too slow for millions of people, so it only fills three pools (family
names, male and female given names) at start-up; the pools keep Faker's frequency
skew because they are plain samples. Only characters GBK can encode are kept: the
pinyin systems export GBK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from faker import Faker

#: Same-sounding (or easily confused) characters, for a person re-typed in another city.
HOMOPHONES: Final = dict(zip(
    "伟华明军丽静杰芳敏磊洋勇艳娟霞涛斌超秀英红平刚辉玲建文云兰梅波鹏飞宇浩凯晨琳颖倩婷慧丹萍亮瑞欣佳俊"
    "张王刘周吴徐朱何罗杨",
    "玮桦铭君莉婧洁方民垒阳永燕鹃侠滔彬潮绣瑛虹萍钢晖铃健雯芸岚玫博朋菲雨皓恺辰林莹茜亭惠单苹谅睿新嘉峻"
    "章汪柳邹伍许诸贺骆阳", strict=True))


def _gbk(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class NamePools:
    family: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]

    @classmethod
    def build(cls, seed: int, size: int = 1200) -> NamePools:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        family = tuple(n for n in (fake.last_name() for _ in range(size)) if _gbk(n))
        male = tuple(n for n in (fake.first_name_male() for _ in range(size)) if _gbk(n))
        female = tuple(n for n in (fake.first_name_female() for _ in range(size)) if _gbk(n))
        return cls(family, male, female)

    def name(self, family: int, given: int, sex: str) -> str:
        pool = self.male if sex == "1" else self.female
        return self.family[family % len(self.family)] + pool[given % len(pool)]


def misspelt(name: str) -> str | None:
    """The name with one character swapped for a homophone (given name first), or None."""
    for i in range(len(name) - 1, -1, -1):
        if name[i] in HOMOPHONES:
            return name[:i] + HOMOPHONES[name[i]] + name[i + 1:]
    return None
