"""Usernames unique after NFKC and case folding; usernames and transaction ids NO PAD binary.

`users.username_key` holds the folded form that makes two usernames the same (`Alice`,
`alice`, `ａｌｉｃｅ`). Existing rows are keyed here; where earlier rows already collide
(registered before this rule), the oldest account keeps the plain key and each later one gets
`<key>#<id>` — `#` is never part of a username, so no new registration can take it, and those
accounts still log in by their exact username.

On MySQL/MariaDB `utf8mb4_bin` pads with spaces (`victim` = `victim   `): the username, its
key and the transaction id move to the NO PAD binary collation of the server.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:40:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_LENGTH = 150
BATCH = 1_000
_users = sa.table(
    "users", sa.column("id", sa.BigInteger), sa.column("username"), sa.column("username_key")
)


def _key(username: str) -> str:
    """The rule of this revision, frozen here: migrations never change with the code."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def _binary(length: int, collation: str) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation=collation), "mysql")


def _no_pad_collation() -> str:
    dialect = op.get_bind().dialect
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


def _collate(collation: str) -> None:
    for table, column, length in (("users", "username", 150), ("payments", "transaction_id", 255)):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_nullable=False, type_=_binary(length, collation))


def _fill_keys() -> None:
    connection = op.get_bind()
    taken: set[str] = set()
    last_id = 0
    while True:
        found = connection.execute(
            sa.select(_users.c.id, _users.c.username)
            .where(_users.c.id > last_id)
            .order_by(_users.c.id)
            .limit(BATCH)
        ).all()
        if not found:
            return
        keys = []
        for user_id, username in found:
            key = _key(username)
            if key in taken or len(key) > KEY_LENGTH:
                key = f"{key[:120]}#{user_id}"
            taken.add(key)
            keys.append({"user_id": user_id, "key": key})
        connection.execute(
            sa.update(_users)
            .where(_users.c.id == sa.bindparam("user_id"))
            .values(username_key=sa.bindparam("key")),
            keys,
        )
        last_id = found[-1][0]


def upgrade() -> None:
    key_type = _binary(KEY_LENGTH, _no_pad_collation())
    comment = "NFKC, case-folded: what makes two usernames the same"
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", key_type, nullable=True, comment=comment))
    _fill_keys()
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "username_key", existing_type=key_type, existing_comment=comment, nullable=False
        )
        batch.create_unique_constraint(batch.f("uq_users_username_key"), ["username_key"])
    if op.get_bind().dialect.name == "mysql":
        _collate(_no_pad_collation())


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        _collate("utf8mb4_bin")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("uq_users_username_key"), type_="unique")
        batch.drop_column("username_key")
