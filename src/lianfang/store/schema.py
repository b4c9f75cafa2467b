"""Database schema: bookkeeping tables plus one record table per category of the standard.

Record tables are *derived from the standard's YAML*: adding a field is a YAML
edit followed by an Alembic revision (``alembic revision --autogenerate``), never
hand-written DDL. Column conventions:

* plain fields keep their name; times are ``BIGINT`` epoch milliseconds (UTC) so
  that range scans are cheap and identical on every engine;
* encrypted fields (personal, or sensitive and above) become ``<name>_enc``
  (SM4-GCM blob carrying its key version) and, when searchable, ``<name>_bidx``
  (16-byte HMAC-SM3 blind index) which is what exact-match search uses;
* a ``phonetic`` name field also gets ``<name>_pybidx``: the blind index of its
  toneless pinyin (:mod:`lianfang.standard.phonetic`), for sounds-alike search;
* every row carries lineage: file, batch, position in the file, the source's own
  record ID and the SM3 hash of the raw record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from lianfang.standard import Category, Field, Standard

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_STRING_WIDTH = {
    "citizen_id": 18,
    "plate": 16,
    "phone": 20,
    "code": 16,
    "device_id": 20,
    "division_code": 6,
    "jurisdiction_code": 12,
    "unit_code": 12,
    "case_no": 32,
    "person_name": 40,
    "date": 10,
}


def record_table_name(category: str) -> str:
    return f"rec_{category}"


def column_names(fld: Field) -> tuple[str, ...]:
    """The physical columns a field occupies."""
    if fld.encrypted:
        if not fld.searchable:
            return (f"{fld.name}_enc",)
        return (f"{fld.name}_enc", f"{fld.name}_bidx", *((f"{fld.name}_pybidx",) if fld.phonetic else ()))
    return (fld.name,)


def index_column(fld: Field) -> str:
    """The column an index or exact-match search on this field uses."""
    return f"{fld.name}_bidx" if fld.encrypted else fld.name


def _plain_column(fld: Field) -> Column[object]:
    if fld.type == "datetime":
        return Column(fld.name, BigInteger, comment="epoch milliseconds, UTC")
    if fld.type in ("number", "longitude", "latitude"):
        return Column(fld.name, Float)
    if fld.type == "integer":
        return Column(fld.name, Integer)
    width = fld.max_length or _STRING_WIDTH.get(fld.type, 64)
    return Column(fld.name, String(width) if width <= 400 else Text)


def _add_bookkeeping(metadata: MetaData) -> None:
    Table(
        "ingest_batch",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("origin", String(16), nullable=False),  # cli | api | retry
        Column("started_at", BigInteger, nullable=False),
        Column("finished_at", BigInteger),
        Column("status", String(16), nullable=False, index=True),  # running | done | failed | interrupted
        Column("files", Integer, nullable=False, default=0),
        Column("records_read", BigInteger, nullable=False, default=0),
        Column("accepted", BigInteger, nullable=False, default=0),
        Column("quarantined", BigInteger, nullable=False, default=0),
        Column("duplicates", BigInteger, nullable=False, default=0),
        Column("owner", String(64)),  # lease holder, host:pid (ingest/lease.py)
        Column("heartbeat_at", BigInteger),  # the holder's last sign of life
    )
    Table(
        "ingest_file",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("content_hash", String(64), nullable=False, unique=True),  # SM3 of the bytes
        Column("batch_id", ForeignKey("ingest_batch.id"), nullable=False, index=True),
        Column("name", String(255), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("mapping_id", String(120), nullable=False),
        Column("mapping_version", Integer, nullable=False),
        Column("city_code", String(6), nullable=False),
        Column("system", String(60), nullable=False),
        Column("category", String(40), nullable=False),
        Column("status", String(16), nullable=False),  # running | done | failed
        Column("checkpoint", BigInteger, nullable=False, default=0),  # last committed position
        Column("records_read", BigInteger, nullable=False, default=0),
        Column("accepted", BigInteger, nullable=False, default=0),
        Column("quarantined", BigInteger, nullable=False, default=0),
        Column("duplicates", BigInteger, nullable=False, default=0),
        Column("error", Text),
        Column("started_at", BigInteger, nullable=False),
        Column("finished_at", BigInteger),
        Column("owner", String(64)),  # lease holder while running, host:pid (ingest/lease.py)
        Column("heartbeat_at", BigInteger),  # set at claim and with every committed chunk
    )
    Table(
        "source_mapping",  # every mapping version ever used, as written: lineage and retry
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("mapping_id", String(120), nullable=False),
        Column("version", Integer, nullable=False),
        Column("sha", String(64), nullable=False),
        Column("content", Text, nullable=False),
        Column("first_used_at", BigInteger, nullable=False),
        UniqueConstraint("mapping_id", "version", "sha"),
    )
    Table(
        "quarantine",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("file_id", ForeignKey("ingest_file.id"), nullable=False, index=True),
        Column("batch_id", ForeignKey("ingest_batch.id"), nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("locator", String(120), nullable=False),
        Column("category", String(40), nullable=False, index=True),
        Column("city_code", String(6), nullable=False),
        Column("reasons", Text, nullable=False),  # JSON list of {field, code, message}
        Column("reason_codes", String(400), nullable=False, index=True),  # "a.b,c.d" for filtering
        Column("raw_enc", LargeBinary, nullable=False),  # SM4: raw records hold personal data
        Column("fields_enc", LargeBinary, nullable=False),  # SM4 JSON of the parsed source fields
        Column("raw_hash", LargeBinary(32), nullable=False),
        Column("status", String(16), nullable=False, index=True),  # open | resolved | discarded
        Column("retries", Integer, nullable=False, default=0),
        Column("created_at", BigInteger, nullable=False),
        Column("resolved_at", BigInteger),
        Column("record_id", BigInteger),  # the stored record once resolved
        Column("resolved_with", String(140)),  # mapping id@version that resolved it
        Column("corrected_fields", String(400)),  # source columns a steward corrected (names only)
    )
    Table(
        "ingest_duplicate",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("file_id", ForeignKey("ingest_file.id"), nullable=False, index=True),
        Column("position", BigInteger, nullable=False),
        Column("category", String(40), nullable=False),
        Column("original_id", BigInteger),  # NULL when the original is earlier in the same chunk
        Column("raw_hash", LargeBinary(32), nullable=False),
        Column("exact", Integer, nullable=False),  # 1 = byte-identical raw record
    )


RESERVED = frozenset(
    {
        "id",
        "dedup_key",
        "classification",
        "file_id",
        "batch_id",
        "position",
        "source_record_id",
        "raw_hash",
        "ingested_at",
    }
)


def _add_record_table(metadata: MetaData, category: Category) -> Table:
    name = record_table_name(category.name)
    clash = sorted(RESERVED & set(category.fields))
    if clash:
        raise ValueError(
            f"{category.name}: field names {clash} are reserved for bookkeeping columns"
        )
    columns: list[Column[object]] = [
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("dedup_key", LargeBinary(16), nullable=False, unique=True),
        Column(
            "classification", String(16), nullable=False
        ),  # record level; may be raised above the default
    ]
    for fld in category.fields.values():
        if fld.encrypted:
            columns.append(Column(f"{fld.name}_enc", LargeBinary))
            if fld.searchable:
                columns.append(Column(f"{fld.name}_bidx", LargeBinary(16)))
            if fld.phonetic:
                columns.append(Column(f"{fld.name}_pybidx", LargeBinary(16)))
        else:
            columns.append(_plain_column(fld))
    columns += [
        Column("file_id", ForeignKey("ingest_file.id"), nullable=False),
        Column("batch_id", ForeignKey("ingest_batch.id"), nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("source_record_id", String(64)),
        Column("raw_hash", LargeBinary(32), nullable=False),
        Column("ingested_at", BigInteger, nullable=False),
    ]
    table = Table(name, metadata, *columns)
    composite = [tuple(index_column(category.field(c)) for c in ix) for ix in category.indexes]
    for cols in composite:
        Index(f"ix_{name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    # a category without an event time lists a searched value's matches newest stored first (by id): the
    # index carries the id, so the newest page is read off its end (PostgreSQL otherwise walked the primary
    # key backwards, or sorted every record of a common name, for the 20 it shows)
    then = () if category.time_field else (table.c.id,)
    for fld in category.fields.values():
        col = index_column(fld)
        covered = any(cols[0] == col for cols in composite)
        if fld.searchable and not covered:
            Index(f"ix_{name}_{col}", table.c[col], *then, **_present_only(fld, table.c[col]))
        if fld.phonetic:
            pycol = table.c[f"{fld.name}_pybidx"]
            Index(f"ix_{name}_{fld.name}_pybidx", pycol, *then, **_present_only(fld, pycol))
    return table


def _present_only(fld: Field, column: Column[Any]) -> dict[str, Any]:
    """An optional field's search index holds only the records that have a value (a partial index).

    Searches compare the column with a value, which rules out NULL, so both engines use
    such an index for them. A plate-camera file has no matched person in any sighting:
    with a full index, building ``matched_citizen_id_bidx`` after a bulk load sorted a
    million NULLs (0.6 s of the 2.3 s of indexes built at the end of the benchmark
    file); now there is nothing to sort.
    """
    if fld.required:
        return {}
    present = column.is_not(None)
    return {"sqlite_where": present, "postgresql_where": present}


def _add_audit(metadata: MetaData) -> None:
    """The audit trail (全程留痕): append-only, SM3-chained, with SM2-signed checkpoints.

    ``seq`` is assigned by the appender (1, 2, 3, … without gaps) and ``hash`` is
    SM3(previous hash || seq || canonical event); ``mac`` is HMAC-SM3 of ``hash``
    under a key from the key file, so a row forged by someone who can only write
    to the database does not verify. Targets are record IDs or blind-index
    digests, never personal values.
    """
    Table(
        "audit_event",
        metadata,
        # BigId: on SQLite the sequence number is the rowid itself (one B-tree, not two)
        Column("seq", BigId, primary_key=True, autoincrement=False),
        Column("at_ms", BigInteger, nullable=False, index=True),
        Column("user_id", BigInteger),
        Column("username", String(64)),
        Column("unit_code", String(12)),
        Column("role", String(32)),
        Column("action", String(48), nullable=False),
        Column("target", Text, nullable=False),  # JSON list of "<kind>:<id or digest>"
        Column("purpose", String(48)),
        Column("case_no", String(64)),
        Column("grant_id", BigInteger),
        Column("outcome", String(32), nullable=False),
        Column("result_count", Integer),
        Column("client", String(64)),
        Column("detail", Text, nullable=False),  # JSON object: reason codes, counts
        Column("hash", LargeBinary(32), nullable=False),
        Column("mac", LargeBinary(32), nullable=False),
        Index("ix_audit_event_user_id_at_ms", "user_id", "at_ms"),
    )
    Table(
        "audit_subject",  # who read which person when: the alarm rules' index (derived, kept a few days)
        metadata,
        Column("seq", BigId, primary_key=True, autoincrement=False),
        Column("subject", String(160), primary_key=True),  # person:<record id>
        Column("at_ms", BigInteger, nullable=False),
        Column("user_id", BigInteger),
        Index("ix_audit_subject_subject_at_ms", "subject", "at_ms"),
    )
    Table(
        "audit_alarm",  # abnormal operations found in the trail, for auditors to dispose of
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("rule", String(40), nullable=False, index=True),
        Column("severity", String(16), nullable=False),
        Column("user_id", BigInteger),
        Column("subject", String(160)),  # the target the alarm is about, when it is about one
        Column("at_ms", BigInteger, nullable=False, index=True),
        Column("seq", BigInteger),  # the audit event that raised it
        Column("evidence", Text, nullable=False),  # JSON: what was seen (counts, thresholds, event seqs)
        Column("status", String(16), nullable=False),  # open | confirmed | false_positive
        Column("disposed_by", BigInteger),
        Column("disposed_at", BigInteger),
        Column("disposition", Text),
    )
    Table(
        "audit_checkpoint",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("kind", String(16), nullable=False),  # checkpoint | purge (the anchor a purge leaves)
        Column("seq", BigInteger, nullable=False),
        Column("hash", LargeBinary(32), nullable=False),
        Column("at_ms", BigInteger, nullable=False),
        Column("public_key", String(130), nullable=False),  # 04 || x || y, hex
        Column("signature", LargeBinary(64), nullable=False),  # SM2 over the checkpoint statement
    )


def _add_identity(metadata: MetaData) -> None:
    """Accounts, web sessions and API tokens. Secrets are stored only as hashes or SM4 blobs."""
    Table(
        "app_user",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("username", String(64), nullable=False, unique=True),
        Column("display_name", String(64), nullable=False),
        Column("unit_code", String(12), nullable=False, index=True),  # division code of the unit
        Column("unit_name", String(120), nullable=False),
        Column("roles", String(200), nullable=False),  # comma-separated Role values
        Column("cleared_top_secret", Integer, nullable=False, default=0),
        Column("password_hash", String(200), nullable=False),  # argon2id, PHC string
        Column("totp_enc", LargeBinary, nullable=False),  # SM4-GCM of the TOTP secret
        Column("totp_last_step", BigInteger, nullable=False, default=0),  # no code is accepted twice
        Column("status", String(16), nullable=False),  # active | disabled
        Column("failed_sign_ins", Integer, nullable=False, default=0),
        Column("locked_until", BigInteger, nullable=False, default=0),
        Column("must_change_password", Integer, nullable=False, default=1),
        # blind indexes of the user's own citizen ID and of surname + registered address, so that
        # looking up oneself or one's family raises an alarm; never the values themselves
        Column("person_bidx", LargeBinary(16)),
        Column("family_bidx", LargeBinary(16)),
        Column("created_at", BigInteger, nullable=False),
        Column("last_sign_in", BigInteger),
    )
    Table(
        "auth_session",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("token_hash", LargeBinary(32), nullable=False, unique=True),  # SM3 of the cookie value
        Column("csrf_token", String(64), nullable=False),
        Column("user_id", ForeignKey("app_user.id"), nullable=False, index=True),
        Column("created_at", BigInteger, nullable=False),
        Column("last_seen", BigInteger, nullable=False),
        Column("idle_ms", BigInteger, nullable=False),
        Column("ended_at", BigInteger),
        Column("end_reason", String(16)),  # logout | idle | disabled | replaced
        Column("client", String(64)),
    )
    Table(
        "api_token",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("name", String(64), nullable=False),
        Column("user_id", ForeignKey("app_user.id"), nullable=False, index=True),
        Column("token_hash", LargeBinary(32), nullable=False, unique=True),  # SM3 of the token
        Column("scopes", String(400), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("revoked_at", BigInteger),
        Column("last_used", BigInteger),
    )


def _add_access(metadata: MetaData) -> None:
    """Access requests, the grants approvals create, and in-app notifications.

    Free text (purpose details, decision reasons) may name people, so it is stored
    SM4-encrypted; scopes hold record IDs, blind-index digests, plates or case numbers.
    """
    Table(
        "access_request",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("requester_id", ForeignKey("app_user.id"), nullable=False, index=True),
        Column("requester_unit", String(12), nullable=False),
        Column("owner_city", String(6), nullable=False),
        Column("level", String(16), nullable=False),
        Column("scope_kind", String(16), nullable=False),
        Column("scope_keys", Text, nullable=False),  # JSON list
        Column("purpose", String(48), nullable=False),
        Column("purpose_text_enc", LargeBinary),
        Column("case_no", String(64), nullable=False),
        Column("hours", Integer, nullable=False),
        Column("status", String(16), nullable=False, index=True),  # pending | approved | rejected | withdrawn
        Column("created_at", BigInteger, nullable=False),
        Column("decided_by", ForeignKey("app_user.id")),
        Column("decided_role", String(32)),
        Column("decided_at", BigInteger),
        Column("reason_enc", LargeBinary),
    )
    Table(
        "access_grant",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("request_id", ForeignKey("access_request.id"), nullable=False, unique=True),
        Column("holder_id", ForeignKey("app_user.id"), nullable=False, index=True),
        Column("approver_id", ForeignKey("app_user.id"), nullable=False),
        Column("approver_role", String(32), nullable=False),
        Column("city_code", String(6), nullable=False),
        Column("level", String(16), nullable=False),
        Column("purpose", String(48), nullable=False),
        Column("case_no", String(64), nullable=False),
        Column("scope_kind", String(16), nullable=False),
        Column("scope_keys", Text, nullable=False),
        Column("starts_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("revoked_at", BigInteger),
        Column("revoked_by", ForeignKey("app_user.id")),
        Column("revoke_reason_enc", LargeBinary),
    )
    Table(
        "notification",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("user_id", ForeignKey("app_user.id"), nullable=False, index=True),
        # request.pending | request.approved | request.rejected | grant.revoked
        Column("kind", String(32), nullable=False),
        Column("ref_id", BigInteger, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("read_at", BigInteger),
    )


def _add_watch(metadata: MetaData) -> None:
    """Watch lists (布控): standing entries on a plate or a person, and the hits new sightings make.

    An entry's subject is a normalised plate or a person's blind-index key (hex), never a
    citizen ID in clear; the ID the owner typed is kept SM4-encrypted for their own list,
    and so is the free-text reason. ``scope`` and ``grant_ids`` are JSON lists.
    """
    Table(
        "watch_entry",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("owner_id", ForeignKey("app_user.id"), nullable=False, index=True),
        Column("owner_unit", String(12), nullable=False),
        Column("kind", String(16), nullable=False),  # plate | person
        Column("subject_key", String(64), nullable=False, index=True),  # plate, or the person key (hex)
        Column("subject_enc", LargeBinary),  # SM4 of the citizen ID as typed (person entries only)
        Column("reason_enc", LargeBinary, nullable=False),
        Column("purpose", String(48), nullable=False),
        Column("case_no", String(64), nullable=False),
        Column("scope", Text, nullable=False),  # JSON list of city codes
        Column("grant_ids", Text, nullable=False),  # JSON list: grants that cover other cities' sightings
        Column("status", String(16), nullable=False, index=True),  # active | removed | expired
        Column("created_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("removed_at", BigInteger),
        Column("removed_by", ForeignKey("app_user.id")),
        Column("changed_at", BigInteger, nullable=False),  # last add/remove/expiry: matchers reload on change
    )
    Table(
        "watch_hit",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("entry_id", ForeignKey("watch_entry.id"), nullable=False, index=True),
        Column("owner_id", ForeignKey("app_user.id"), nullable=False),
        Column("category", String(40), nullable=False),
        Column("record_id", BigInteger, nullable=False),
        Column("city_code", String(6), nullable=False),
        Column("at_ms", BigInteger),  # when the sighting happened
        Column("ingested_at", BigInteger, nullable=False),  # when the platform received it
        Column("created_at", BigInteger, nullable=False),  # when the hit was stored
        Column("seen_at", BigInteger),  # acknowledged by the owner
        UniqueConstraint("entry_id", "record_id"),
        Index("ix_watch_hit_owner_id_id", "owner_id", "id"),
    )


def build_metadata(standard: Standard) -> MetaData:
    metadata = MetaData(naming_convention=NAMING)
    _add_bookkeeping(metadata)
    _add_audit(metadata)
    _add_identity(metadata)
    _add_access(metadata)
    _add_watch(metadata)
    for category in standard.categories.values():
        _add_record_table(metadata, category)
    return metadata
