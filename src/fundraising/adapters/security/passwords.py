"""Argon2id password hashing with argon2-cffi."""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """Argon2id; the defaults follow OWASP's minimum (19 MiB, 2 passes, 1 lane).

    Hashing is CPU-bound: more hashes at once than cores only multiply the memory each one
    takes, so they queue instead.
    """

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_kib: int = 19_456,
        parallelism: int = 1,
        concurrency: int = os.cpu_count() or 1,
    ) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._dummy = self._argon2.hash("an unguessable dummy password")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            with self._slots:
                return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def dummy_verify(self) -> None:
        self.verify(self._dummy, "not the dummy password")
