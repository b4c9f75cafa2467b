"""The data standard, read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from lianfang.api.deps import PlatformDep
from lianfang.api.security import Reader
from lianfang.standard.export import standard_as_dict

router = APIRouter(tags=["standard"])


@router.get("/standard")
def get_standard(
    who: Reader, plat: PlatformDep, lang: str | None = Query(None, pattern="^(zh|en)$")
) -> dict[str, Any]:
    """Every category, field, classification level and code table of the standard."""
    return standard_as_dict(plat.standard, lang)


@router.get("/standard/{category}")
def get_category(
    category: str, who: Reader, plat: PlatformDep, lang: str | None = Query(None, pattern="^(zh|en)$")
) -> dict[str, Any]:
    """One category of the standard."""
    doc = standard_as_dict(plat.standard, lang)
    for cat in doc["categories"]:
        if cat["name"] == category:
            return dict(cat)
    raise HTTPException(404, f"unknown category {category!r}")
