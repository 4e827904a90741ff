"""The SQL unit of work: one connection, one transaction, effects after the commit."""

from __future__ import annotations

from contextlib import suppress
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fundraising.adapters.sql.errors import translate, translated_errors
from fundraising.adapters.sql.repositories import (
    SqlCollects,
    SqlLeases,
    SqlMembers,
    SqlOutbox,
    SqlPayments,
    SqlRefreshTokens,
    SqlUpdates,
    SqlUsers,
)
from fundraising.adapters.sql.webhooks import SqlWebhooks
from fundraising.application.ports.cache import Cache
from fundraising.application.ports.tasks import TaskQueue
from fundraising.application.unit_of_work import AfterCommit


class SqlUnitOfWork(AfterCommit):
    users: SqlUsers
    collects: SqlCollects
    payments: SqlPayments
    members: SqlMembers
    updates: SqlUpdates
    refresh_tokens: SqlRefreshTokens
    outbox: SqlOutbox
    webhooks: SqlWebhooks
    leases: SqlLeases

    def __init__(self, engine: Engine, task_queue: TaskQueue, cache: Cache) -> None:
        super().__init__(task_queue, cache)
        self._engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        with translated_errors():
            connection = self._engine.connect()
            connection.begin()
        self._connection = connection
        self.users = SqlUsers(connection, self.mark_revoked)
        self.collects = SqlCollects(connection, self.mark_changed)
        self.payments = SqlPayments(connection, self.mark_changed)
        self.members = SqlMembers(connection, self.mark_changed)
        self.updates = SqlUpdates(connection)
        self.refresh_tokens = SqlRefreshTokens(connection)
        self.outbox = SqlOutbox(connection)
        self.webhooks = SqlWebhooks(connection)
        self.leases = SqlLeases(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard_effects()
        self._release()
        if isinstance(exc, DBAPIError) and (translated := translate(exc)) is not None:
            raise translated from exc

    def commit(self) -> None:
        assert self._connection is not None, "commit() outside of the with block"
        self._before_commit()
        with translated_errors():
            self._connection.commit()
        self._release()  # the effects may need a connection of their own
        self._run_effects()

    def _release(self) -> None:
        if self._connection is not None:
            with suppress(DBAPIError):  # a dead connection: the server rolled back already
                self._connection.close()  # rolls back whatever was not committed
            self._connection = None
