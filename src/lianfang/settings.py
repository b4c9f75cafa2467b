"""One typed settings object for the whole platform (``LIANFANG_`` environment prefix).

Build it once at the edge (CLI, server, tests) and pass it down; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform configuration. Every field can be set as ``LIANFANG_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LIANFANG_", env_file=None, extra="ignore")

    var_dir: Path = Field(
        Path("var"), description="Working directory for the embedded store, keys and uploads."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite at <var_dir>/lianfang.db. "
        "Production: postgresql+psycopg://user@host/db.",
    )
    key_file: Path | None = Field(
        None,
        description="Master key file, outside the database (default <var_dir>/keys/master.key).",
    )
    max_file_bytes: int = Field(
        2 * 1024**3, description="Largest input file ingestion accepts, in bytes."
    )
    max_xlsx_uncompressed_bytes: int = Field(
        512 * 1024**2, description="Largest total uncompressed size of an .xlsx archive."
    )
    max_xlsx_ratio: int = Field(
        200, description="Largest compression ratio of any member of an .xlsx archive."
    )
    ingest_chunk_size: int = Field(
        20000, ge=1, description="Records read, checked and stored as one chunk during ingestion "
        "(a file's first chunk holds at most 2,000, so that storing starts sooner)."
    )
    ingest_workers: int = Field(
        -1, ge=-1, description="Processes that build the chunks of a big file while this one stores them: "
        "-1 picks one per CPU (at most 4; none on a single CPU), 0 builds them in this process."
    )
    ingest_parallel_min_bytes: int = Field(
        8 * 1024 * 1024, ge=0, description="Files at least this big are built by the ingest_workers processes; "
        "smaller ones in this process (starting workers costs about a second)."
    )
    ingest_defer_indexes_rows: int = Field(
        100_000, ge=0, description="A file expected to add at least this many records, and at least as many as "
        "its table holds, is loaded without the table's secondary indexes, which are built once at its end "
        "(much faster than keeping them up to date row by row); 0 keeps them live always."
    )
    ingest_commit_rows: int = Field(
        200_000, ge=1, description="Most records one ingestion transaction stores: whole chunks are committed "
        "together while the next is already waiting (a kill -9 redoes at most this many)."
    )
    ingest_lease_stale_s: float = Field(
        120.0, gt=0, description="A running ingestion whose holder has not committed a chunk (its heartbeat) "
        "for this long is taken as dead: another run may resume its file, and its batch reads interrupted. "
        "Keep it well above the time one chunk takes."
    )
    host: str = Field(
        "127.0.0.1", description="Address the API binds to (loopback until authentication lands)."
    )
    port: int = Field(8000, description="Port the API listens on.")
    workers: int = Field(
        1, ge=1, le=64,
        description="Server processes `lianfang serve` runs on the one port. Python serves one request at a time "
        "per process, so one process uses about one core: set this to the cores the server may use.",
    )
    timezone: str = Field(
        "Asia/Shanghai", description="Time zone used to read naive source times and to display."
    )
    max_page_size: int = Field(500, description="Largest page an API listing returns.")
    db_pool_size: int = Field(20, ge=1, description="Database connections kept open (one per concurrent request).")
    db_max_overflow: int = Field(20, ge=0, description="Extra connections opened under bursts, closed after.")
    search_page_size: int = Field(20, ge=1, description="Results per category a search returns by default.")
    search_max_page_size: int = Field(100, ge=1, description="Most results per category a search may ask for.")
    search_export_max_rows: int = Field(
        1000, ge=1, description="Most rows one search export (POST /api/v1/search/export) writes to its file."
    )
    policy_file: Path | None = Field(
        None, description="Access policy YAML (default: the shipped lianfang/policy/policy.yaml)."
    )
    alarms_file: Path | None = Field(
        None, description="Alarm rules YAML (default: the shipped lianfang/audit/alarms.yaml)."
    )
    sign_in_max_failures: int = Field(
        5, ge=1, le=10, description="Consecutive failed sign-ins that lock an account (baseline: 5)."
    )
    sign_in_lock_minutes: int = Field(10, ge=10, description="How long a locked account stays locked (≥ 10).")
    session_idle_minutes: int = Field(30, ge=1, le=30, description="Idle time that ends a session (≤ 30).")
    session_idle_minutes_top_secret: int = Field(
        15, ge=1, le=15, description="Idle time that ends a session of a user cleared for top secret (≤ 15)."
    )
    cookie_secure: bool = Field(
        True, description="Send the session cookie over HTTPS only (turn off only for plain-HTTP loopback use)."
    )
    audit_retention_days: int = Field(366, ge=366, description="Audit records are kept at least this long.")
    track_default_days: int = Field(30, ge=1, description="Trajectory window when a query names none, in days.")
    track_max_days: int = Field(92, ge=1, description="Widest trajectory window a query may ask for, in days.")
    track_max_points: int = Field(
        5000, ge=2, description="Most sightings one trajectory returns; a longer track asks for a narrower window."
    )
    track_clone_kmh: float = Field(
        200.0, gt=0, description="Implied speed between two sightings of one plate above which the jump is "
        "flagged as a possible cloned plate (套牌)."
    )
    track_clock_tolerance_s: float = Field(
        60.0, gt=0, description="Seconds added to the time between two sightings before their implied speed is "
        "computed (checkpoint clocks drift)."
    )
    geo_dir: Path | None = Field(None, description="Imported map layers (default <var_dir>/geo).")
    geo_max_bytes: int = Field(
        32 * 1024**2, ge=1, description="Largest city-boundaries file `lianfang geo import` accepts, in bytes."
    )
    watch_max_days: int = Field(90, ge=1, le=366, description="Longest a watch-list entry may run before it expires.")
    watch_max_entries: int = Field(200, ge=1, description="Most active watch-list entries one user may hold.")
    watch_poll_ms: int = Field(
        200, ge=20, le=2000, description="How often a server process looks for new watch hits for its live streams "
        "(one query for all of them), in milliseconds."
    )
    watch_heartbeat_s: float = Field(
        15.0, gt=0, description="Seconds between keep-alive comments on an idle watch-hit stream."
    )
    watch_stream_max_s: float = Field(
        3600.0, gt=0, description="A live watch-hit stream ends after this long; browsers reconnect (Last-Event-ID)."
    )
    viid_max_body_bytes: int = Field(
        8 * 1024**2, ge=1024, description="Largest GA/T 1400 push body accepted, in bytes."
    )
    viid_max_objects: int = Field(1000, ge=1, description="Most objects one GA/T 1400 push may carry.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'lianfang.db').as_posix()}"

    def resolved_key_file(self) -> Path:
        return self.key_file or self.var_dir / "keys" / "master.key"

    def resolved_geo_dir(self) -> Path:
        return self.geo_dir or self.var_dir / "geo"
