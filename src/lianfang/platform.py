"""The platform object: everything built once from :class:`Settings` and passed down.

CLI commands and the API build one ``Platform`` and hand its parts to services;
nothing else reads settings or opens engines on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, select

from lianfang.access import Approvals
from lianfang.access.projection import Projector
from lianfang.access.records import RecordReader
from lianfang.audit import Audit
from lianfang.audit.alarms import AlarmEngine, AlarmWorker, UserFacts, load_alarm_config
from lianfang.crypto import BlindIndex, FieldCipher, KeyRing, create_key_file, load_key_file
from lianfang.identity import Authenticator, AuthPolicy, Directory, Tokens
from lianfang.ingest.mapping import Mapping, builtin_mapping_files, load_mappings
from lianfang.policy.config import PolicyConfig, load_policy
from lianfang.search import Entities, Recogniser, Searcher
from lianfang.search.targets import Targets
from lianfang.settings import Settings
from lianfang.standard import Standard, load_standard
from lianfang.store.engine import engine_from_settings, migrate, read_only
from lianfang.store.schema import build_metadata
from lianfang.track import CloneRule, Trajectories
from lianfang.track.layers import MapLayers
from lianfang.watch import Watch


@dataclass
class Platform:
    settings: Settings
    extra_mapping_paths: list[Path] = field(default_factory=list)

    @cached_property
    def standard(self) -> Standard:
        return load_standard()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @cached_property
    def engine(self) -> Engine:
        return engine_from_settings(self.settings)

    @cached_property
    def keyring(self) -> KeyRing:
        return load_key_file(self.settings.resolved_key_file())

    @cached_property
    def metadata(self) -> MetaData:
        return build_metadata(self.standard)

    @cached_property
    def audit(self) -> Audit:
        return Audit(
            self.engine,
            self.keyring,
            self.metadata,
            on_failure=lambda exc: self.alarms.audit_failed(exc, int(time.time() * 1000)),
            on_append=self.alarm_worker.offer,
            subjects=self.alarms.subjects_of,  # the alarm rules' subject index, written with the events
        )

    @cached_property
    def alarms(self) -> AlarmEngine:
        return AlarmEngine(self.engine, self.metadata, load_alarm_config(self.settings.alarms_file), self.tz,
                           self._user_facts)

    @cached_property
    def alarm_worker(self) -> AlarmWorker:
        return AlarmWorker(self.alarms)

    def _user_facts(self, user_id: int) -> UserFacts | None:
        users = self.metadata.tables["app_user"]
        with read_only(self.engine) as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            return None
        return UserFacts(
            role=row.roles,
            created_at=int(row.created_at),
            person_bidx=bytes(row.person_bidx) if row.person_bidx is not None else None,
            family_bidx=bytes(row.family_bidx) if row.family_bidx is not None else None,
        )

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keyring)

    @cached_property
    def directory(self) -> Directory:
        return Directory(self.engine, self.metadata.tables["app_user"], self.metadata.tables["auth_session"],
                         self.cipher)

    @cached_property
    def auth(self) -> Authenticator:
        s = self.settings
        policy = AuthPolicy(
            max_failures=s.sign_in_max_failures,
            lock_ms=s.sign_in_lock_minutes * 60_000,
            idle_ms=s.session_idle_minutes * 60_000,
            idle_ms_top_secret=s.session_idle_minutes_top_secret * 60_000,
        )
        return Authenticator(self.engine, self.directory, self.metadata.tables["auth_session"], self.cipher,
                             self.audit, policy)

    @cached_property
    def tokens(self) -> Tokens:
        return Tokens(self.engine, self.directory, self.metadata.tables["api_token"])

    @cached_property
    def approvals(self) -> Approvals:
        return Approvals(self.engine, self.metadata, self.directory, self.cipher, self.audit, self.policy)

    @cached_property
    def blind(self) -> BlindIndex:
        return BlindIndex(self.keyring)

    @cached_property
    def projector(self) -> Projector:
        return Projector(self.standard, self.cipher, self.blind, self.policy, self.tz)

    @cached_property
    def records(self) -> RecordReader:
        return RecordReader(self.engine, self.metadata, self.projector, self.approvals, self.audit, self.blind)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.engine, Targets(self.standard, self.metadata), self.projector, self.approvals,
                        self.audit, Recogniser(self.city_names()))

    @cached_property
    def entities(self) -> Entities:
        return Entities(self.searcher, self.records)

    def city_names(self) -> dict[str, str]:
        """City names (with and without 市) to division codes, from the jurisdiction reference data."""
        j = self.metadata.tables["rec_jurisdiction"]
        with read_only(self.engine) as conn:
            rows = conn.execute(select(j.c.name, j.c.city_code).where(j.c.level == "city")).all()
        names: dict[str, str] = {}
        for name, code in rows:
            if name and code:
                names[name] = code
                names[name.removesuffix("市")] = code
        return names

    @cached_property
    def city_labels(self) -> dict[str, str]:
        """Division code → the city's name for display (the full name, with 市, where the reference data has it)."""
        labels: dict[str, str] = {}
        for name, code in self.city_names().items():
            if name.endswith("市") or code not in labels:
                labels[code] = name
        return labels

    @cached_property
    def trajectories(self) -> Trajectories:
        s = self.settings
        return Trajectories(self.engine, self.metadata, self.projector, self.approvals, self.audit, self.records,
                            self.blind, rule=CloneRule(s.track_clone_kmh, s.track_clock_tolerance_s),
                            max_days=s.track_max_days, max_points=s.track_max_points)

    @cached_property
    def map_layers(self) -> MapLayers:
        return MapLayers(self.engine, self.metadata, self.projector, self.approvals, self.audit)

    @cached_property
    def watch(self) -> Watch:
        s = self.settings
        return Watch(engine=self.engine, metadata=self.metadata, standard=self.standard, policy=self.policy,
                     cipher=self.cipher, blind=self.blind, approvals=self.approvals, audit=self.audit,
                     projector=self.projector, tz=self.tz, max_days=s.watch_max_days,
                     max_entries=s.watch_max_entries, cities=self.city_codes)

    def city_codes(self) -> list[str]:
        """Every city the platform knows: the jurisdiction reference data and the cities mappings feed."""
        return sorted(set(self.city_names().values()) | {m.city for m in self.mappings})

    @cached_property
    def policy(self) -> PolicyConfig:
        return load_policy(self.settings.policy_file)

    @cached_property
    def mappings(self) -> list[Mapping]:
        return load_mappings([*builtin_mapping_files(), *self.extra_mapping_paths], self.standard)

    def close(self) -> None:
        """Commit pending audit events, finish alarm evaluation, close the database connections."""
        audit = self.__dict__.get("audit")
        if audit is not None:
            audit.close()
        worker = self.__dict__.get("alarm_worker")
        if worker is not None:
            worker.close()
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()

    def ensure_key(self) -> bool:
        """Create the master key file if it does not exist; True when one was created."""
        path = self.settings.resolved_key_file()
        if path.exists():
            return False
        create_key_file(path)
        return True

    def migrate(self, on_revision: Callable[[str, str], None] | None = None) -> None:
        migrate(self.engine, on_revision)
