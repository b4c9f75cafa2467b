"""The audit trail (全程留痕): append-only, SM3-chained, SM2-checkpointed, verifiable.

:class:`Audit` binds the pieces to one database and key file; the modules hold the
parts: ``event`` (what is recorded, and the refusal of personal data in clear),
``trail`` (appending, group commit, fail closed), ``checkpoint`` (SM2-signed
statements and their export), ``verify`` and ``retention``.

The names below are imported on first use: a verification worker process imports
only :mod:`lianfang.audit.scan` (no SQLAlchemy, no SM2), so it starts in a fraction
of the time the whole package takes.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lianfang.audit.checkpoint import Checkpoint
    from lianfang.audit.event import AuditEvent, AuditEventRefused, PersonalDataInAudit
    from lianfang.audit.retention import RetentionError
    from lianfang.audit.scan import Problem
    from lianfang.audit.service import Audit
    from lianfang.audit.trail import AuditUnavailable, GroupCommitter
    from lianfang.audit.verify import VerifyReport

_HOME = {
    "Audit": "service",
    "AuditEvent": "event",
    "AuditEventRefused": "event",
    "AuditUnavailable": "trail",
    "Checkpoint": "checkpoint",
    "GroupCommitter": "trail",
    "PersonalDataInAudit": "event",
    "Problem": "scan",
    "RetentionError": "retention",
    "VerifyReport": "verify",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Audit",
    "AuditEvent",
    "AuditEventRefused",
    "AuditUnavailable",
    "Checkpoint",
    "GroupCommitter",
    "PersonalDataInAudit",
    "Problem",
    "RetentionError",
    "VerifyReport",
]
