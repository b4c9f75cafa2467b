"""Access requests, approvals and grants (审批) on top of the pure policy."""

from __future__ import annotations

from lianfang.access.approvals import MAX_HOURS, AccessError, AccessRequest, Approvals

__all__ = ["MAX_HOURS", "AccessError", "AccessRequest", "Approvals"]
