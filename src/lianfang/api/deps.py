"""Typed dependencies shared by routes.

Those that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency on the thread
pool, a hop there and back per dependency per request, which costs more than the work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform


async def get_platform(request: Request) -> Platform:
    plat: Platform = request.app.state.platform
    return plat


async def get_ingestor(request: Request) -> Ingestor:
    ing: Ingestor = request.app.state.ingestor
    return ing


PlatformDep = Annotated[Platform, Depends(get_platform)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]

#: The largest key a 64-bit integer column holds (SQLite INTEGER, PostgreSQL bigint). An id beyond it cannot
#: exist, and the drivers refuse to bind one (a 500 before this bound): 422 instead, as any invalid parameter.
MAX_ID = 2**63 - 1
#: A record, request, grant, alarm … id in the path
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class Page:
    """Paging parameters with the configured maximum page size enforced."""

    def __init__(self, limit: int, offset: int, cap: int):
        self.limit = min(limit, cap)
        self.offset = offset


async def get_page(request: Request, limit: int = Query(50, ge=1),
                   offset: int = Query(0, ge=0, le=MAX_ID)) -> Page:
    return Page(limit, offset, request.app.state.platform.settings.max_page_size)


PageDep = Annotated[Page, Depends(get_page)]
