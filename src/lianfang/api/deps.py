"""Typed dependencies shared by routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform


def get_platform(request: Request) -> Platform:
    plat: Platform = request.app.state.platform
    return plat


def get_ingestor(request: Request) -> Ingestor:
    ing: Ingestor = request.app.state.ingestor
    return ing


PlatformDep = Annotated[Platform, Depends(get_platform)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]


class Page:
    """Paging parameters with the configured maximum page size enforced."""

    def __init__(
        self, request: Request, limit: int = Query(50, ge=1), offset: int = Query(0, ge=0)
    ):
        cap = request.app.state.platform.settings.max_page_size
        self.limit = min(limit, cap)
        self.offset = offset


PageDep = Annotated[Page, Depends(Page)]
