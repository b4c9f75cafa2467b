"""The web UI's routes: every page module's router, included once by the app.

A new page module (``pages_<what>.py``) defines ``router = APIRouter(include_in_schema=False)``
and is added to ``_PAGES`` below; its nav entry (``page.NAV``) appears once its GET route exists.
"""

from __future__ import annotations

from fastapi import APIRouter

from lianfang.web import (
    pages_access,
    pages_approvals,
    pages_audit,
    pages_notifications,
    pages_search,
    pages_session,
    pages_track,
    pages_watch,
)
from lianfang.web.page import PageExit, page_exit

router = APIRouter(include_in_schema=False)

_PAGES = (pages_session, pages_access, pages_approvals, pages_notifications, pages_audit, pages_search,
          pages_track, pages_watch)
for _module in _PAGES:
    router.include_router(_module.router)

#: the app registers this handler so a page can stop with a redirect or a refusal page
EXCEPTION_HANDLERS = {PageExit: page_exit}

__all__ = ["EXCEPTION_HANDLERS", "router"]
