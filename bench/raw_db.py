"""The write ceiling: the donation transaction straight through PyMySQL, no HTTP, no ORM."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pymysql
from sqlalchemy import make_url

from bench.report import WRITE_CEILING, Row

_SETUP = """
INSERT INTO collects (author_id, title, occasion, description, collected_kopecks,
  donations_count, donors_count, start_date, is_active, cover_status, created_at, updated_at,
  visibility, hidden_from, share_key)
VALUES (%s, 'ceiling', 'other', '', 0, 0, 0, %s, 1, 'none', %s, %s, 'public', '[]', %s)
"""


def donation_ceiling(database_url: str, duration: int, threads: int) -> Row:
    """The same transaction as a donation (lock the collect by incrementing it, check the
    donor, insert the payment) from `threads` connections for `duration` seconds."""
    url = make_url(database_url)
    connect = {
        "host": url.host,
        "port": url.port or 3306,
        "user": url.username,
        "password": url.password or "",
        "database": url.database,
        "autocommit": False,
        "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    }
    setup = pymysql.connect(**connect)
    now = datetime.now(UTC).replace(tzinfo=None)
    with setup.cursor() as cursor:
        cursor.execute("SELECT id FROM users ORDER BY id LIMIT 1")
        user = cursor.fetchone()[0]
        targets = []
        for _ in range(20):
            cursor.execute(_SETUP, (user, now, now, now, uuid.uuid4().hex))
            targets.append(cursor.lastrowid)
    setup.commit()
    setup.close()
    done = [0] * threads
    stop_at = time.monotonic() + duration

    def donate(slot: int) -> None:
        connection = pymysql.connect(**connect)
        cursor = connection.cursor()
        count = 0
        while time.monotonic() < stop_at:
            collect = targets[count % len(targets)]
            cursor.execute(
                "UPDATE collects SET collected_kopecks = collected_kopecks + 1000, "
                "donations_count = donations_count + 1 WHERE id = %s AND is_active = 1",
                (collect,),
            )
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM payments WHERE collect_id = %s AND payer_id = %s "
                "AND status = 'completed')",
                (collect, user),
            )
            if not cursor.fetchone()[0]:
                cursor.execute(
                    "UPDATE collects SET donors_count = donors_count + 1 WHERE id = %s", (collect,)
                )
            cursor.execute(
                "INSERT INTO payments (collect_id, payer_id, amount_kopecks, status, "
                "transaction_id, payment_date, visibility) "
                "VALUES (%s, %s, 1000, 'completed', %s, %s, 'public')",
                (
                    collect,
                    user,
                    f"ceiling-{uuid.uuid4().hex}",
                    datetime.now(UTC).replace(tzinfo=None),
                ),
            )
            connection.commit()
            count += 1
        done[slot] = count
        connection.close()

    workers = [threading.Thread(target=donate, args=(slot,)) for slot in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Row(WRITE_CEILING, rps=sum(done) / (time.monotonic() - started), errors=0)
