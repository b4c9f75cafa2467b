"""Alembic environment: target metadata is derived from the standard."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from lianfang.standard import load_standard
from lianfang.store.schema import build_metadata

config = context.config
if os.environ.get("LIANFANG_DATABASE_URL") and "connection" not in config.attributes:
    config.set_main_option("sqlalchemy.url", os.environ["LIANFANG_DATABASE_URL"].replace("%", "%%"))
target_metadata = build_metadata(load_standard())


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
