"""Faults injected into the production topology, run as real processes the tests start:
`fundraising serve --workers 2` and `fundraising worker` over a fresh MariaDB database, a cache
and a broker redis-server of each test's own, and an SMTP server; spoken to over sockets.

1. The cache Redis killed under load. 2. The broker down (or hung) while donations are made;
SMTP refusing for a while. 3. MariaDB connections killed during requests; a COMMIT whose
answer is lost. 4. A worker killed while it processes a cover.
"""

from __future__ import annotations

import io
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from tests.e2e.cli_helpers import Database
from tests.integration.fixtures_services import (
    SmtpSink,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    wait_until,
)
from tests.integration.processes import (
    Account,
    Api,
    Deployment,
    Load,
    LossyMysqlLink,
    Process,
    RefusingSmtp,
    Seen,
    deployment,
    observe,
    slow_png,
)
from tests.services import MYSQL_URL

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]

# "Promptly": a donation never waits for the task queue. The web app's publisher is meant to
# give up on the broker after 1 s per message (two messages per donation).
PROMPT_SECONDS = 3.0
BYPASS_TRANSITION = 0.5  # requests already past the cache lookup when Redis died
OUTAGE_SECONDS = 2.5
LEASE_SECONDS = 5  # the test profile's task lease
RELAY_GRACE = 1.0  # the test profile's relay grace
PAYMENTS = "/api/v1/payments/"
COLLECTS = "/api/v1/collects/"


def _donation(collect_id: int, amount: str, transaction_id: str) -> dict[str, Any]:
    return {"collect": collect_id, "amount": amount, "transaction_id": transaction_id}


def _succeeded(seen: Seen) -> bool:
    return seen.status is not None and 200 <= seen.status < 300


def _kopecks(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _rub(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _is_problem(seen: Seen, status: int) -> bool:
    """A readable problem+json answer with this status that leaks nothing of the internals."""
    body = seen.body if isinstance(seen.body, dict) else {}
    text_of_body = str(seen.body)
    return (
        seen.status == status
        and seen.headers.get("content-type", "").startswith("application/problem+json")
        and body.get("status") == status
        and isinstance(body.get("detail"), str)
        and not any(word in text_of_body for word in ("Traceback", "pymysql", "SELECT", "INSERT"))
    )


def _unexpected_errors(process: Process) -> list[str]:
    """What the service logged as an unexpected failure (the 500 path) or uvicorn as a crash."""
    markers = ("unexpected error in", "Exception in ASGI application")
    return [line for line in process.log().splitlines() if any(m in line for m in markers)]


# --- 1. the cache Redis killed under load -----------------------------------------------------


def _shown(seen: Seen, collect_id: int) -> tuple[int, str]:
    """(donations_count, collected_amount) of the collect in a detail or in a list page."""
    body = seen.body
    if "results" in body:
        [body] = [item for item in body["results"] if item["id"] == collect_id]
    return body["donations_count"], body["collected_amount"]


def _wait_for_each_path(
    load: Load, paths: tuple[str, ...], condition: Callable[[Seen], bool], what: str
) -> None:
    wait_until(
        lambda: all(
            any(seen.path == path and condition(seen) for seen in load.seen) for path in paths
        ),
        timeout=15,
        interval=0.05,
        what=what,
    )


def test_reads_survive_the_cache_being_killed_and_use_it_again_once_it_is_back(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = Api(deployed.url)
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Подарок к юбилею", goal_amount="1000")["id"]
        paid = api.donate(donor, collect_id, "100.00", "cache-before")
        assert paid.status_code == 201, paid.text
        answered = [(time.monotonic(), (1, "100.00"))]  # when each donation was answered

        paths = (f"{COLLECTS}{collect_id}/", COLLECTS)

        def read(number: int, http: httpx.Client, seen: list[Seen]) -> None:
            seen.append(observe(http, "GET", paths[number % 2], headers=donor.headers))

        # A new connection per request, so that both server processes answer reads.
        with Load(deployed.url, 4, read, fresh_connections=True) as load:
            _wait_for_each_path(load, paths, lambda s: s.cache == "HIT", "cache hits")
            deployed.cache.close()  # SIGKILL
            killed_at = time.monotonic()
            _wait_for_each_path(
                load, paths, lambda s: s.started > killed_at and s.cache == "BYPASS", "bypasses"
            )

            during = observe(
                api.http,
                "POST",
                PAYMENTS,
                json=_donation(collect_id, "250.00", "cache-during"),
                headers=donor.headers,
            )
            assert during.status == 201, during.describe()
            assert during.ended - during.started < PROMPT_SECONDS, during.describe()
            answered.append((during.ended, (2, "350.00")))
            fresh = observe(api.http, "GET", paths[0], headers=donor.headers)
            assert fresh.status == 200, fresh.describe()
            assert (fresh.cache, _shown(fresh, collect_id)) == ("BYPASS", (2, "350.00"))

            time.sleep(max(0.0, killed_at + OUTAGE_SECONDS - time.monotonic()))  # load goes on
            restarting_at = time.monotonic()
            deployed.cache.start()  # same port, empty
            _wait_for_each_path(
                load,
                paths,
                lambda s: s.started > restarting_at and s.cache == "HIT",
                "cache hits again after the restart",
            )
        seen = load.stop()

        failed = [s.describe() for s in seen if s.status != 200]
        assert not failed, f"{len(failed)} of {len(seen)} reads failed:\n" + "\n".join(failed[:20])
        outage = [
            s for s in seen if killed_at + BYPASS_TRANSITION < s.started and s.ended < restarting_at
        ]
        assert len(outage) > 20, "the reads went on during the outage"
        cached = [s.describe() for s in outage if s.cache != "BYPASS"]
        assert not cached, "not BYPASS while Redis was down:\n" + "\n".join(cached[:20])

        for each in seen:
            due = max(shown for at, shown in answered if at < each.started)
            assert _shown(each, collect_id) >= due, f"totals went backwards: {each.describe()}"
            assert _shown(each, collect_id) in {(1, "100.00"), (2, "350.00")}, each.describe()
        assert not _unexpected_errors(server), server.tail()


def test_a_cache_that_comes_back_with_its_data_never_hides_a_donation_made_meanwhile(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = Api(deployed.url)
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Свадьба Ольги")["id"]
        assert api.donate(donor, collect_id, "100.00", "persisted-1").status_code == 201
        wait_until(
            lambda: api.detail(collect_id, donor).headers["x-cache"] == "HIT",
            what="the detail cached",
        )
        with closing(deployed.cache.client()) as cache:
            cache.save()  # what an append-only or snapshotting Redis has on disk
        deployed.cache.close()  # SIGKILL

        during = api.donate(donor, collect_id, "250.00", "persisted-2")
        assert during.status_code == 201, during.text
        shown = api.detail(collect_id, donor)
        assert (shown.headers["x-cache"], shown.json()["collected_amount"]) == ("BYPASS", "350.00")

        server.stop()  # the app restarts while Redis is still down
        deployed.serve(workers=2)
        deployed.cache.start()  # back, with what it had on disk
        with closing(deployed.cache.client()) as cache:
            assert cache.dbsize() > 0, "Redis came back with its data"

        api = Api(deployed.url)
        answers = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            answers.append(
                observe(api.http, "GET", f"{COLLECTS}{collect_id}/", headers=donor.headers)
            )
            time.sleep(0.05)
        stale = [
            s.describe()
            for s in answers
            if s.status != 200 or s.body["collected_amount"] != "350.00"
        ]
        assert not stale, f"{len(stale)} of {len(answers)} reads hide the donation:\n" + "\n".join(
            stale[:5]
        )


# --- 2. the broker down, SMTP refusing ------------------------------------------------------


def _mails(sink: SmtpSink) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every message the SMTP server accepted, counted."""
    return Counter(
        (recipient, str(message["Subject"]))
        for _, recipients, message in sink.envelopes
        for recipient in recipients
    )


def _wait_for_mails(sink: SmtpSink, expected: Counter[tuple[str, str]], timeout: float) -> None:
    wait_until(
        lambda: all(_mails(sink)[key] >= count for key, count in expected.items()),
        timeout=timeout,
        interval=0.05,
        what=f"{sum(expected.values())} e-mails",
    )


def _unfinished_tasks(deployed: Deployment) -> int:
    with deployed.database() as db:
        return int(db.scalar("SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL"))


def _settled(deployed: Deployment, sink: SmtpSink, expected: Counter[tuple[str, str]]) -> None:
    """Every expected e-mail arrived, every task finished, and nothing more comes afterwards."""
    _wait_for_mails(sink, expected, timeout=30)
    wait_until(
        lambda: _unfinished_tasks(deployed) == 0, timeout=15, what="every outbox task finished"
    )
    time.sleep(RELAY_GRACE + 0.5)  # a duplicate would be relayed and sent within this
    assert _mails(sink) == expected, deployed.logs()


class Collects:
    """Collects of a few authors, each with a donor of its own, and the e-mails they cause."""

    def __init__(self, api: Api, count: int) -> None:
        self.api = api
        authors = [api.account("author") for _ in range(2)]
        self.items: list[tuple[Account, Account, int, str]] = []
        self.expected: Counter[tuple[str, str]] = Counter()
        for number in range(count):
            author, title = authors[number % 2], f"Подарок №{number + 1}"
            collect_id = api.collect(author, title, goal_amount="5000")["id"]
            self.items.append((author, api.account("donor"), collect_id, title))
            self.expected[(author.email, f"Сбор «{title}» создан")] += 1

    def donate_each(self, http: httpx.Client, prefix: str) -> list[Seen]:
        answers = []
        for author, donor, collect_id, title in self.items:
            body = _donation(collect_id, "150.00", f"{prefix}-{collect_id}")
            answers.append(observe(http, "POST", PAYMENTS, json=body, headers=donor.headers))
            self.expected[(donor.email, f"Спасибо за пожертвование в сбор «{title}»")] += 1
            self.expected[(author.email, f"Новое пожертвование в сбор «{title}»")] += 1
        return answers


def test_donations_made_while_the_broker_is_down_are_mailed_once_it_is_back(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(Api(deployed.url), 6)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)  # it works before the fault
        before = _mails(smtp_sink)

        deployed.broker.close()  # SIGKILL: queued messages are gone too
        answers = collects.donate_each(collects.api.http, "broker-down")
        for answer in answers:
            assert answer.status == 201, answer.describe()
            assert answer.ended - answer.started < PROMPT_SECONDS, answer.describe()
        time.sleep(RELAY_GRACE + 0.5)  # past the relay's grace: it tries, and fails
        assert _unfinished_tasks(deployed) == 2 * len(answers)
        assert _mails(smtp_sink) == before, "no donation e-mail without a broker"

        deployed.broker.start()  # same port, empty
        _settled(deployed, smtp_sink, collects.expected)


def test_donations_are_answered_promptly_while_the_broker_hangs(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(Api(deployed.url), 1)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)

        deployed.broker.pause()  # SIGSTOP: connections are accepted, nothing is answered
        try:
            with httpx.Client(base_url=deployed.url, timeout=2 * PROMPT_SECONDS) as http:
                answers = collects.donate_each(http, "broker-hung")
        finally:
            deployed.broker.resume()
        for answer in answers:
            assert answer.status == 201, answer.describe()
            assert answer.ended - answer.started < PROMPT_SECONDS, answer.describe()
        _settled(deployed, smtp_sink, collects.expected)


@pytest.fixture
def refusing_smtp() -> Iterator[RefusingSmtp]:
    """An SMTP server answering 451 to the first two deliveries of every message: the test
    profile's two retries are just enough."""
    sink = RefusingSmtp(refusals=2)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def test_emails_refused_for_a_while_are_delivered_after_retries_exactly_once(
    tmp_path: Path, refusing_smtp: RefusingSmtp
) -> None:
    with deployment(tmp_path, smtp=refusing_smtp) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(Api(deployed.url), 3)
        answers = collects.donate_each(collects.api.http, "refused")
        assert [answer.status for answer in answers] == [201] * len(answers)

        _settled(deployed, refusing_smtp, collects.expected)
        attempts = {
            (recipients[0], subject): n
            for (recipients, subject), n in refusing_smtp.attempts.items()
        }
        assert attempts == dict.fromkeys(collects.expected, 3), "refused twice, then sent"


def test_emails_wait_for_an_smtp_server_that_is_down_and_are_sent_once(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    # The test profile gives a task 2 retries within ~0.3 s; an outage of seconds needs more of
    # them, as production has (10 retries, backing off from 5 s to 10 min).
    with deployment(tmp_path, smtp=smtp_sink, FUNDRAISING_TASK_MAX_RETRIES="100") as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(Api(deployed.url), 3)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)

        smtp_sink.stop()
        answers = collects.donate_each(collects.api.http, "smtp-down")
        assert [answer.status for answer in answers] == [201] * len(answers)
        time.sleep(RELAY_GRACE + 1.0)  # attempts fail, and the relay publishes copies
        assert _unfinished_tasks(deployed) == 2 * len(answers)

        smtp_sink.start()  # same port
        _settled(deployed, smtp_sink, collects.expected)


# --- 3. MariaDB connections killed ----------------------------------------------------------

CHAOS_SECONDS = 5.0
DONATING_THREADS = 4
READING_THREADS = 2


def _kill_connections(admin: Connection, database_name: str) -> int:
    """KILL every server-side connection to the database; returns how many were killed."""
    found = admin.execute(
        text("SELECT id FROM information_schema.processlist WHERE db = :db"),
        {"db": database_name},
    )
    killed = 0
    for (connection_id,) in found.all():
        try:
            admin.execute(text(f"KILL {int(connection_id)}"))
        except DBAPIError:  # it ended meanwhile
            continue
        killed += 1
    return killed


def _retried(api: Api, who: Account, body: dict[str, Any]) -> Seen:
    """The same donation sent again: new (201), or the replay of one committed already (200)."""
    answer = observe(api.http, "POST", PAYMENTS, json=body, headers=who.headers)
    replayed = answer.status == 200 and answer.headers.get("idempotent-replayed") == "true"
    assert answer.status == 201 or replayed, answer.describe()
    return answer


def test_killed_mariadb_connections_give_clean_503s_and_never_a_partial_donation(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = Api(deployed.url)
        authors = [api.account("author") for _ in range(2)]
        donors = [api.account("donor") for _ in range(6)]
        collect_ids = [api.collect(authors[n % 2], f"Сбор №{n + 1}")["id"] for n in range(3)]
        sent: list[tuple[Account, dict[str, Any], Seen]] = []
        numbers = [itertools.count(1) for _ in range(DONATING_THREADS + READING_THREADS)]
        chances = [random.Random(n) for n in range(DONATING_THREADS + READING_THREADS)]

        def step(number: int, http: httpx.Client, seen: list[Seen]) -> None:
            chance = chances[number]
            who = chance.choice(donors)
            if number < DONATING_THREADS:
                amount = f"{chance.randint(1, 999)}.{chance.randint(0, 99):02d}"
                transaction_id = f"kill-{number}-{next(numbers[number])}"
                body = _donation(chance.choice(collect_ids), amount, transaction_id)
                answer = observe(http, "POST", PAYMENTS, json=body, headers=who.headers)
                sent.append((who, body, answer))
            else:
                collect_id = chance.choice(collect_ids)
                detail = f"{COLLECTS}{collect_id}/"
                path = chance.choice([detail, f"{detail}payments/", COLLECTS, PAYMENTS])
                answer = observe(http, "GET", path, headers=who.headers)
            seen.append(answer)

        database_name = make_url(deployed.database_url).database
        assert database_name
        admin_engine = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        kills = 0
        try:
            with admin_engine.connect() as admin, Load(deployed.url, len(chances), step) as load:
                stop_at = time.monotonic() + CHAOS_SECONDS
                while time.monotonic() < stop_at:
                    kills += _kill_connections(admin, database_name)
                    time.sleep(0.1)
                seen = load.stop()
        finally:
            admin_engine.dispose()

        bad = [s.describe() for s in seen if not (_succeeded(s) or _is_problem(s, 503))]
        assert not bad, f"{len(bad)} of {len(seen)} answers: neither 2xx nor a clean 503\n" + (
            "\n".join(bad[:20])
        )
        assert kills > 20, "connections were killed"
        assert any(s.status == 503 for s in seen), "the kills hit requests in flight"

        # The pools recover: the very next requests succeed.
        after = [observe(api.http, "GET", "/health/ready")]
        for collect_id in collect_ids:
            body = _donation(collect_id, "10.00", f"after-{collect_id}")
            answer = observe(api.http, "POST", PAYMENTS, json=body, headers=donors[0].headers)
            sent.append((donors[0], body, answer))
            after += [
                answer,
                observe(api.http, "GET", f"{COLLECTS}{collect_id}/", headers=donors[0].headers),
            ]
        after.append(observe(api.http, "GET", COLLECTS, headers=donors[0].headers))
        failing = [s.describe() for s in after if s.status not in {200, 201}]
        assert not failing, "after the kills:\n" + "\n".join(failing)

        # A client retries what was answered 503: a new donation, or the replay of one that was
        # committed although its answer was lost. Either way each transaction counts once.
        accepted: dict[str, tuple[int, int, str]] = {}
        for who, body, first in sent:
            answer = _retried(api, who, body) if first.status == 503 else first
            assert answer.status in {200, 201}, answer.describe()
            assert answer.body["transaction_id"] == body["transaction_id"], answer.describe()
            accepted[body["transaction_id"]] = (
                body["collect"],
                _kopecks(body["amount"]),
                who.username,
            )

        with deployed.database() as db:
            rows = db.rows(
                "SELECT p.transaction_id, p.collect_id, p.amount_kopecks, u.username, p.status "
                "FROM payments p JOIN users u ON u.id = p.payer_id"
            )
            stored = db.stored_totals()
            assert stored == db.actual_totals(), "counters equal the payment rows"
        assert {row[0]: tuple(row[1:4]) for row in rows} == accepted, "one row per donation"
        assert {row[4] for row in rows} == {"completed"}
        for collect_id in collect_ids:
            mine = [value for value in accepted.values() if value[0] == collect_id]
            expected = (
                sum(kopecks for _, kopecks, _ in mine),
                len(mine),
                len({payer for *_, payer in mine}),
            )
            assert stored[collect_id] == expected, f"collect {collect_id}"
            shown = api.detail(collect_id, donors[0]).json()
            assert (shown["collected_amount"], shown["donations_count"], shown["donors_count"]) == (
                _rub(expected[0]),
                expected[1],
                expected[2],
            )
        reconciled = deployed.run("reconcile")
        assert reconciled.code == 0, reconciled.describe()
        assert "no drift" in reconciled.stdout, reconciled.describe()
        # (SQLAlchemy's pool logs the failed reset of each killed connection; that is expected.)
        assert not _unexpected_errors(server), server.tail()


def test_a_donation_whose_commit_answer_was_lost_is_shown_once_its_retry_is_answered(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with (
        deployment(tmp_path, smtp=smtp_sink) as deployed,
        closing(LossyMysqlLink(deployed.database_url)) as link,
    ):
        deployed.serve(workers=2, FUNDRAISING_DATABASE_URL=link.url)
        api = Api(deployed.url)
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Новогодний корпоратив")["id"]
        assert api.donate(donor, collect_id, "100.00", "lost-1").status_code == 201
        wait_until(
            lambda: api.detail(collect_id, donor).headers["x-cache"] == "HIT",
            what="the detail cached",
        )

        link.lose_next_payment_commit()
        body = _donation(collect_id, "250.00", "lost-2")
        lost = observe(api.http, "POST", PAYMENTS, json=body, headers=donor.headers)
        assert _is_problem(lost, 503), lost.describe()
        assert link.lost == 1
        with deployed.database() as db:
            committed = db.scalar("SELECT COUNT(*) FROM payments WHERE transaction_id = 'lost-2'")
        assert committed == 1, "the donation was committed, only its answer was lost"

        retried = observe(api.http, "POST", PAYMENTS, json=body, headers=donor.headers)
        assert retried.status == 200, retried.describe()
        assert retried.headers.get("idempotent-replayed") == "true", retried.describe()
        for path in (f"{COLLECTS}{collect_id}/", COLLECTS):
            shown = observe(api.http, "GET", path, headers=donor.headers)
            assert _shown(shown, collect_id) == (2, "350.00"), f"X-Cache: {shown.cache}"


# --- 4. a worker killed while it processes a cover ------------------------------------------


@pytest.fixture(scope="module")
def big_png() -> bytes:
    picture = slow_png()
    assert len(picture) < 2 * 1024 * 1024
    return picture


def _media_files(deployed: Deployment) -> set[str]:
    """Every file under the media folder, temporary ones included, relative to it."""
    root = deployed.media_dir
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def _media_files_once_settled(deployed: Deployment) -> set[str]:
    """The media files once the upload is gone: it is deleted right after the cover is recorded."""
    wait_until(
        lambda: not any(name.startswith("uploads/") for name in _media_files(deployed)),
        timeout=5,
        what="the upload deleted",
    )
    return _media_files(deployed)


def _upload(api: Api, author: Account, picture: bytes) -> int:
    created = api.http.post(
        COLLECTS,
        data={"title": "Подарок с обложкой"},
        files={"cover": ("photo.png", picture, "image/png")},
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["cover_status"] == "processing"
    return int(created.json()["id"])


def _cover_status(db: Database, collect_id: int) -> str:
    return str(db.scalar("SELECT cover_status FROM collects WHERE id = :id", id=collect_id))


def _processed(api: Api, author: Account, collect_id: int) -> dict[str, Any]:
    """The collect once its cover is no longer `processing` (within the lease and a margin)."""

    def done() -> dict[str, Any] | None:
        body = api.detail(collect_id, author).json()
        return None if body["cover_status"] == "processing" else dict(body)

    return wait_until(done, timeout=LEASE_SECONDS + 20, interval=0.1, what="the cover processed")


def _published(api: Api, collect: dict[str, Any]) -> str:
    """The processed cover's key under the media folder, checked to be a real cover."""
    assert collect["cover_status"] == "ready", collect
    image = api.http.get(collect["cover_url"])
    assert image.status_code == 200, image.text
    with Image.open(io.BytesIO(image.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.width <= 1200 and picture.height <= 800, picture.size
    return urlsplit(str(collect["cover_url"])).path.removeprefix("/media/")


def test_a_cover_whose_worker_was_killed_is_processed_by_the_next_one(
    tmp_path: Path, smtp_sink: SmtpSink, big_png: bytes
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        worker = deployed.worker()
        api = Api(deployed.url)
        author = api.account("author")
        collect_id = _upload(api, author, big_png)

        with deployed.database() as db:
            claimed = (
                "SELECT COUNT(*) FROM outbox WHERE task LIKE '%process_cover%' "
                "AND claimed_until IS NOT NULL AND finished_at IS NULL"
            )
            wait_until(
                lambda: db.scalar(claimed) == 1,
                timeout=15,
                interval=0.005,
                what="the worker claiming the cover",
            )
            worker.kill()
            assert db.scalar(claimed) == 1, "killed before it finished"
            assert _cover_status(db, collect_id) == "processing"

            deployed.worker()
            collect = _processed(api, author, collect_id)
            published = _published(api, collect)
            unfinished = (
                "SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL OR dead_at IS NOT NULL"
            )
            wait_until(lambda: db.scalar(unfinished) == 0, what="every task finished")
        assert _media_files_once_settled(deployed) == {published}


def test_a_worker_killed_after_storing_a_cover_leaves_no_orphan_file(
    tmp_path: Path, smtp_sink: SmtpSink, big_png: bytes
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        worker = deployed.worker()
        api = Api(deployed.url)
        author = api.account("author")
        collect_id = _upload(api, author, big_png)

        with deployed.database() as db, db.engine.connect() as lock:
            # The collect's row held: the worker's recording transaction waits for it.
            lock.execute(
                text("SELECT id FROM collects WHERE id = :id FOR UPDATE"), {"id": collect_id}
            )
            wait_until(
                lambda: any(name.startswith("covers/") for name in _media_files(deployed)),
                timeout=20,
                interval=0.01,
                what="the worker storing the processed cover",
            )
            assert _cover_status(db, collect_id) == "processing", "not recorded yet"
            worker.kill()
            lock.rollback()

        deployed.worker()
        published = _published(api, _processed(api, author, collect_id))
        assert _media_files_once_settled(deployed) == {published}
