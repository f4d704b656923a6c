"""Alembic environment: the records' metadata (with the console's) and the database from DATABASE_URL."""

from __future__ import annotations

from alembic import context

from actions import records
from console import models as console_models

config = context.config
url = config.get_main_option("sqlalchemy.url") or records.database_url()


def run_migrations() -> None:
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=records.Base.metadata,
            literal_binds=True,
            include_object=console_models.managed_by_metadata,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    with records.engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=records.Base.metadata,
            render_as_batch=True,
            include_object=console_models.managed_by_metadata,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
