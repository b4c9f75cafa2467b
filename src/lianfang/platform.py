"""The platform object: everything built once from :class:`Settings` and passed down.

CLI commands and the API build one ``Platform`` and hand its parts to services;
nothing else reads settings or opens engines on its own.
"""

from __future__ import annotations

import time
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
from lianfang.settings import Settings
from lianfang.standard import Standard, load_standard
from lianfang.store.engine import engine_from_settings, migrate
from lianfang.store.schema import build_metadata


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
        with self.engine.connect() as conn:
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
        return Projector(self.standard, self.cipher, self.policy, self.tz)

    @cached_property
    def records(self) -> RecordReader:
        return RecordReader(self.engine, self.metadata, self.projector, self.approvals, self.audit, self.blind)

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

    def migrate(self) -> None:
        migrate(self.engine)
