"""One audit event and its canonical bytes (what the SM3 chain covers).

An event names who (user, unit, role), what (action, targets), why (purpose code,
case number), under which grant, the outcome and the number of results, and the
client address. Targets are ``"<kind>:<id or digest>"`` strings — record IDs or
blind-index digests — and an event whose text looks like a citizen ID or a mobile
number anywhere is refused before it is written: personal data never enters the
trail in clear.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Runs of 11 or more ASCII digits: where a citizen ID or a mobile number could be.
_DIGIT_RUNS = re.compile(r"[0-9]{11,}")
_DIGITS = frozenset("0123456789")
#: a plate is a natural key with a CJK province character (赣A7Q777); plates are not personal data
_TARGET = re.compile(r"^[a-z_]{1,32}:[0-9A-Za-z_.\-\u4e00-\u9fff]{1,128}$")
#: The canonical form joins values with the unit separator and writes NULL as the record
#: separator; no text column may contain either (nor NUL, which PostgreSQL text refuses).
_FRAMING = re.compile("[\x00\x1e\x1f]")
SEPARATOR, NULL = "\x1f", "\x1e"
#: The hash before the first record (or the first after a purge anchor, which carries its own).
GENESIS = bytes(32)
#: detail keys whose values are digests or ciphertext, never readable personal data
_OPAQUE_SUFFIXES = ("_digest", "_enc")
# the standard library's encoders, for what orjson refuses (non-string keys, integers beyond 64 bits);
# built once: json.dumps with options builds a new encoder per call
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON, UTF-8 characters as they are, control characters escaped; keys sorted if asked.

    orjson writes it ten times faster than the standard library (3.3 → 0.4 µs for a typical
    detail, on every request's audit event); the two agree on everything an event holds.
    The chain covers the stored text, so the encoder only has to be deterministic.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None).decode()
    except TypeError:  # orjson.JSONEncodeError: the standard library decides (and raises if it must)
        return (_JSON_SORTED if sort_keys else _JSON).encode(value)


class AuditEventRefused(ValueError):
    """The trail refuses this event as it is (for this event alone: the batch it would join goes on).

    The message never repeats the refused value: it may be personal data."""


class PersonalDataInAudit(AuditEventRefused):
    """An audit event carried something that looks like personal data in clear."""


@dataclass(frozen=True)
class AuditEvent:
    action: str  # e.g. auth.sign_in, data.search, data.view, data.export, grant.approve
    outcome: str  # ok | denied | failed | masked | …
    at_ms: int
    user_id: int | None = None
    username: str | None = None
    unit_code: str | None = None
    role: str | None = None
    target: tuple[str, ...] = ()
    purpose: str | None = None
    case_no: str | None = None
    grant_id: int | None = None
    result_count: int | None = None
    client: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    # Computed once, on first use, into the instance dict (the frozen dataclass's __setattr__
    # is bypassed). Not functools.cached_property: on Python 3.11 it takes one lock shared by
    # every instance, which all request threads recording events would queue on.
    @property
    def _detail_json(self) -> str:
        cache = self.__dict__
        text = cache.get("_detail_text")
        if text is None:
            text = cache["_detail_text"] = _json(self.detail, sort_keys=True)
        return text

    @property
    def _target_json(self) -> str:
        cache = self.__dict__
        text = cache.get("_target_text")
        if text is None:
            text = cache["_target_text"] = _json(list(self.target))
        return text

    def checked(self) -> AuditEvent:
        """Return self after refusing malformed targets and anything that looks personal."""
        if not self.action or not self.outcome:
            raise AuditEventRefused("an audit event needs an action and an outcome")
        for i, t in enumerate(self.target):
            if not _TARGET.match(t):  # the message never echoes the value: it may be personal
                raise AuditEventRefused(f"audit target #{i + 1} is not '<kind>:<record id or digest>'")
        plain = "\n".join(
            t for t in (self.username, self.unit_code, self.role, self.action, self.outcome, self.case_no,
                        self.client, self.purpose) if t
        )  # fmt: skip
        if _FRAMING.search(plain):
            raise AuditEventRefused("audit text fields must not contain the control characters NUL, RS or US")
        # digests (hex) and sealed values (base64) are not personal data, but their random
        # characters can hold a long run of digits: only readable text is scanned
        if any(k.endswith(_OPAQUE_SUFFIXES) for k in self.detail):
            readable = _json({k: v for k, v in self.detail.items() if not k.endswith(_OPAQUE_SUFFIXES)})
        else:
            readable = self._detail_json  # the stored form, computed once for both uses
        ids = [i for i in (t.partition(":")[2] for t in self.target) if i.isdigit()]
        if looks_personal("\n".join((plain, readable, *ids))):
            raise PersonalDataInAudit("audit event refused: it contains what looks like a citizen ID or mobile number")
        try:  # a lone surrogate (JSON's "\ud800" decodes to one) has no UTF-8 form: the chain could not hash it
            plain.encode()
            self._detail_json.encode()
        except UnicodeEncodeError:
            raise AuditEventRefused("audit text must be valid Unicode (it holds a lone surrogate)") from None
        return self

    def values(self) -> tuple[Any, ...]:
        """The stored values of :data:`CHAINED_COLUMNS`, in that order."""
        return (
            self.at_ms, self.user_id, self.username, self.unit_code, self.role, self.action, self._target_json,
            self.purpose, self.case_no, self.grant_id, self.outcome, self.result_count, self.client,
            self._detail_json,
        )  # fmt: skip

    def row(self) -> dict[str, Any]:
        """The columns of ``audit_event`` (without seq, hash and mac)."""
        return dict(zip(CHAINED_COLUMNS, self.values(), strict=True))


#: The columns the chain covers, in this order (changing it invalidates every trail).
CHAINED_COLUMNS = (
    "at_ms", "user_id", "username", "unit_code", "role", "action", "target", "purpose",
    "case_no", "grant_id", "outcome", "result_count", "client", "detail",
)  # fmt: skip


def looks_personal(text: str) -> bool:
    """Whether ``text`` holds a 15- or 18-digit citizen ID or an 11-digit mobile, not inside a longer digit run.

    The same as searching ``(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9})(?![0-9])``,
    five times faster: the digit runs are found first, and only they are looked at.
    """
    for m in _DIGIT_RUNS.finditer(text):
        n, end = m.end() - m.start(), m.end()
        if n == 15 or n == 18:
            return True
        if n == 11 and text[m.start()] == "1" and text[m.start() + 1] in "3456789":
            return True
        if n == 17 and text[end : end + 1] in ("X", "x") and text[end + 1 : end + 2] not in _DIGITS:
            return True
    return False


def canonical(seq: int, row: dict[str, Any]) -> bytes:
    """The bytes hashed for one stored event: its sequence number and chained columns.

    Values in :data:`CHAINED_COLUMNS` order, as decimal text or text, joined with the
    unit separator (0x1F); NULL is a lone record separator (0x1E). Each column has
    one type, and text columns never contain either separator
    (:meth:`AuditEvent.checked`; the JSON columns escape control characters), so the
    framing is unambiguous. The database computes the same text for verification
    (:func:`canonical_sql`).
    """
    return canonical_values([seq, *(row[c] for c in CHAINED_COLUMNS)])


def canonical_values(values: Sequence[Any]) -> bytes:
    """:func:`canonical` of ``[seq, *chained columns]``."""
    return SEPARATOR.join([NULL if v is None else v if v.__class__ is str else str(v) for v in values]).encode()


def canonical_sql(dialect: str) -> str:
    """A SQL expression over ``audit_event`` equal to :func:`canonical` of each row, UTF-8 encoded.

    Verification reads millions of rows through it, so it is the cheapest form each
    engine has: one ``printf`` per row in SQLite, one ``concat_ws`` in PostgreSQL. The
    value arrives as bytes (a BLOB, a ``bytea``): the bytes the chain hashes, with no
    decoding in the driver and no encoding in Python (an eighth of verification's time
    per record on SQLite).
    """
    cols = ("seq", *CHAINED_COLUMNS)
    if dialect == "sqlite":
        args = ", ".join(f"ifnull({c}, '{NULL}')" for c in cols)
        return f"CAST(printf('{SEPARATOR.join(['%s'] * len(cols))}', {args}) AS BLOB)"
    # concat_ws builds the row's text in one allocation (a chain of || copies it at every step);
    # it skips NULLs, so each column is coalesced to the NULL marker first
    text = ", ".join(f"coalesce({c}::text, '{NULL}')" for c in cols)
    return f"convert_to(concat_ws('{SEPARATOR}', {text}), 'UTF8')"


__all__ = [
    "CHAINED_COLUMNS", "AuditEvent", "AuditEventRefused", "PersonalDataInAudit", "canonical", "canonical_sql",
    "canonical_values", "looks_personal",
]  # fmt: skip
