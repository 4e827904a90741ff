"""Readiness: does each backing service answer right now?"""

from __future__ import annotations

import redis
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from fundraising.adapters.files.local import LocalFileStorage
from fundraising.adapters.files.s3 import S3FileStorage
from fundraising.application.ports.health import OK


class Readiness:
    def __init__(
        self,
        engine: Engine,
        *,
        redis_url: str | None,
        broker_url: str | None,
        storage: LocalFileStorage | S3FileStorage | None = None,
    ) -> None:
        self._engine = engine
        self._redis = {
            name: url for name, url in (("cache", redis_url), ("broker", broker_url)) if url
        }
        self._bucket = storage if isinstance(storage, S3FileStorage) else None

    def check(self) -> dict[str, str]:
        checks = {"database": self._database()}
        for name, url in self._redis.items():
            checks[name] = self._ping(url)
        if self._bucket is not None:
            checks["storage"] = self._storage(self._bucket)
        return checks

    @staticmethod
    def _storage(bucket: S3FileStorage) -> str:
        try:
            bucket.check()
        except (BotoCoreError, ClientError) as error:
            return f"unavailable ({type(error).__name__})"
        return OK

    def _database(self) -> str:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            return f"unavailable ({type(getattr(error, 'orig', None) or error).__name__})"
        return OK

    @staticmethod
    def _ping(url: str) -> str:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        except redis.RedisError as error:
            return f"unavailable ({type(error).__name__})"
        finally:
            client.close()
        return OK
