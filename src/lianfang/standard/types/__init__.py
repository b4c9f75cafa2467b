"""Value types of the standard, by the name used in the YAML ``type:`` key."""

from __future__ import annotations

from lianfang.standard.types.base import Context, InvalidValue, Normaliser, ValueType
from lianfang.standard.types.citizen_id import CitizenIdType
from lianfang.standard.types.phone import PhoneType
from lianfang.standard.types.plate import PlateType
from lianfang.standard.types.simple import (
    CaseNoType,
    CodeType,
    DeviceIdType,
    DivisionCodeType,
    IntegerType,
    JurisdictionCodeType,
    LatitudeType,
    LongitudeType,
    NumberType,
    PersonNameType,
    TextType,
    UnitCodeType,
)
from lianfang.standard.types.temporal import DateTimeType, DateType

VALUE_TYPES: dict[str, ValueType] = {
    t.name: t
    for t in (
        CitizenIdType(),
        PlateType(),
        PhoneType(),
        DateTimeType(),
        DateType(),
        TextType(),
        PersonNameType(),
        CodeType(),
        NumberType(),
        IntegerType(),
        LongitudeType(),
        LatitudeType(),
        DivisionCodeType(),
        JurisdictionCodeType(),
        UnitCodeType(),
        DeviceIdType(),
        CaseNoType(),
    )
}

__all__ = ["VALUE_TYPES", "Context", "InvalidValue", "Normaliser", "ValueType"]
