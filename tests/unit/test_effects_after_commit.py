"""Effects happen only for committed writes; the outbox gets every task to a worker exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from fundraising.application.errors import TransientFailure
from fundraising.application.ports.tasks import (
    EmailKind,
    OutboxMessage,
    ProcessCover,
    SendEmail,
    TaskHeld,
    TaskQueueUnavailable,
)
from fundraising.application.unit_of_work import TRANSACTION_ATTEMPTS, retrying_transaction
from fundraising.application.use_cases.auth import Registration
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    NewCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.application.use_cases.outbox import RELAY_AGAIN_AFTER, RunTask
from fundraising.application.use_cases.payments import Donation
from fundraising.domain.collect import CoverStatus
from fundraising.domain.money import Money
from tests.fakes import (
    FakeCollects,
    FakeFileStorage,
    FakeTaskQueue,
    FakeUnitOfWork,
    image_upload,
)
from tests.unit.conftest import RELAY_GRACE, Core

PAST_GRACE = RELAY_GRACE + timedelta(seconds=1)


def failing_commits(core: Core) -> Callable[[], FakeUnitOfWork]:
    """A unit-of-work factory whose every commit fails, so every transaction rolls back."""

    def factory() -> FakeUnitOfWork:
        uow = core.uow()
        uow.fail_commit = True
        return uow

    return factory


class DeadlockingUnitOfWork(FakeUnitOfWork):
    def commit(self) -> None:
        raise TransientFailure("Deadlock found when trying to get lock")


def deadlocking_first(core: Core, times: int) -> Callable[[], FakeUnitOfWork]:
    """A factory whose first `times` transactions lose a race at commit."""
    left = [times]

    def factory() -> FakeUnitOfWork:
        if left[0]:
            left[0] -= 1
            uow = DeadlockingUnitOfWork(core.db, core.queue, core.clock)
            core.uows.append(uow)
            return uow
        return core.uow()

    return factory


def upload(content: bytes = b"IMG-picture") -> Upload:
    return Upload(image_upload(content))


def ready_cover_collect(core: Core):
    """An author and their collect with a processed cover; the queue and cache start empty."""
    author = core.user("ivan")
    collect_id = core.collect(author, cover=upload()).collect.id
    for task in core.queue.tasks:
        if isinstance(task, ProcessCover):
            core.process_cover(task)
    core.queue.published.clear()
    core.cache.changed.clear()
    return author, collect_id


def no_effects(core: Core, outbox_rows: int = 0) -> bool:
    return (
        core.queue.published == []
        and core.cache.changed == []
        and (len(core.db.outbox) == outbox_rows)
    )


def outbox_message(core: Core, kind: EmailKind) -> OutboxMessage:
    return next(
        row.message
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail) and row.message.task.kind is kind
    )


# a rolled-back write has no effects


def test_a_failed_registration_stores_nothing(core):
    register = attrs.evolve(core.register, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        register(Registration("ivan", "ivan@example.com", "tulip-orbit-glacier"))
    assert core.db.users == {}


def test_a_failed_create_sends_nothing_invalidates_nothing_and_leaves_no_file(core):
    author = core.user()
    create = attrs.evolve(core.create_collect, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        create(NewCollect(author.id, CollectFields(title="Gift", cover=upload())))
    assert core.db.collects == {}
    assert no_effects(core)
    assert core.storage.files == {}


def test_a_failed_cover_replacement_keeps_the_old_cover_and_leaves_no_new_file(core):
    author, collect_id = ready_cover_collect(core)
    files, cover = dict(core.storage.files), core.db.collects[collect_id].cover
    update = attrs.evolve(core.update_collect, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        update(CollectChange(collect_id, author.id, CollectFields(cover=upload(b"IMG-new"))))
    assert core.storage.files == files
    assert core.db.collects[collect_id].cover == cover
    assert no_effects(core, outbox_rows=len(core.db.outbox))


def test_a_failed_cover_removal_deletes_no_file(core):
    author, collect_id = ready_cover_collect(core)
    files = dict(core.storage.files)
    update = attrs.evolve(core.update_collect, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        update(CollectChange(collect_id, author.id, CollectFields(cover=None)))
    assert core.storage.files == files
    assert core.db.collects[collect_id].cover.status is CoverStatus.READY
    assert core.cache.changed == []


def test_a_failed_delete_keeps_the_collect_and_its_files(core):
    author, collect_id = ready_cover_collect(core)
    files = dict(core.storage.files)
    delete = attrs.evolve(core.delete_collect, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        delete(CollectDeletion(collect_id, author.id))
    assert collect_id in core.db.collects
    assert core.storage.files == files
    assert core.cache.changed == []


def test_a_failed_donation_sends_no_email_and_counts_nothing(core):
    author = core.user("ivan")
    collect_id = core.collect(author).collect.id
    core.queue.published.clear()
    core.cache.changed.clear()
    rows = len(core.db.outbox)
    donate = attrs.evolve(core.donate, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        donate(Donation(author.id, collect_id, Money.of("10.00"), "tx-1"))
    assert core.db.payments == {}
    assert core.db.collects[collect_id].donations_count == 0
    assert no_effects(core, outbox_rows=rows)


def test_a_failed_cover_result_deletes_the_new_image_and_keeps_the_upload(core):
    author = core.user()
    collect_id = core.collect(author, cover=upload()).collect.id
    task = next(t for t in core.queue.tasks if isinstance(t, ProcessCover))
    core.cache.changed.clear()
    process = attrs.evolve(core.process_cover, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        process(task)
    assert set(core.storage.files) == {task.source}
    assert core.db.collects[collect_id].cover.status is CoverStatus.PROCESSING
    assert core.cache.changed == []


def test_a_failed_cover_failure_keeps_the_upload_for_a_retry(core):
    author = core.user()
    collect_id = core.collect(author, cover=upload()).collect.id
    task = next(t for t in core.queue.tasks if isinstance(t, ProcessCover))
    core.storage.files[task.source] = b"corrupted"
    process = attrs.evolve(core.process_cover, uow_factory=failing_commits(core))
    with pytest.raises(RuntimeError):
        process(task)
    assert set(core.storage.files) == {task.source}
    assert core.db.collects[collect_id].cover.status is CoverStatus.PROCESSING


class ExplodingCollects(FakeCollects):
    def save(self, collect) -> None:
        raise RuntimeError("the database went away")


def test_a_write_that_raises_midway_leaves_no_staged_upload_and_no_effect(core):
    author = core.user()
    collect_id = core.collect(author).collect.id
    core.queue.published.clear()
    core.cache.changed.clear()
    rows = len(core.db.outbox)

    def factory() -> FakeUnitOfWork:
        uow = core.uow()
        uow.collects = ExplodingCollects(core.db, uow.mark_changed)
        return uow

    update = attrs.evolve(core.update_collect, uow_factory=factory)
    with pytest.raises(RuntimeError, match="went away"):
        update(CollectChange(collect_id, author.id, CollectFields(cover=upload())))
    assert core.storage.files == {}
    assert no_effects(core, outbox_rows=rows)


# a transaction that loses a race runs again


def test_a_create_that_loses_a_race_runs_again_with_one_upload_and_one_email(core):
    author = core.user()
    create = attrs.evolve(core.create_collect, uow_factory=deadlocking_first(core, 2))
    detail = create(NewCollect(author.id, CollectFields(title="Gift", cover=upload())))
    assert list(core.db.collects) == [detail.collect.id]
    assert set(core.storage.files) == {core.db.collects[detail.collect.id].cover.source}
    assert core.queue.tasks.count(SendEmail(EmailKind.COLLECT_CREATED, detail.collect.id)) == 1
    assert core.cache.changed == [detail.collect.id]


def test_a_transaction_losing_every_race_gives_up_and_leaves_no_file(core):
    author = core.user()
    create = attrs.evolve(
        core.create_collect, uow_factory=deadlocking_first(core, TRANSACTION_ATTEMPTS)
    )
    with pytest.raises(TransientFailure):
        create(NewCollect(author.id, CollectFields(title="Gift", cover=upload())))
    assert core.db.collects == {}
    assert core.storage.files == {}
    assert core.queue.published == []


def test_in_transaction_returns_the_result_of_the_attempt_that_succeeds(core):
    attempts = []

    def work(uow: FakeUnitOfWork) -> str:
        attempts.append(uow)
        uow.commit()
        return "done"

    assert retrying_transaction(deadlocking_first(core, 1), work) == "done"
    assert len(attempts) == 2


# effects that fail after the commit


class BrokenStorage(FakeFileStorage):
    def delete(self, key: str) -> None:
        raise OSError("read-only file system")


def test_an_effect_that_fails_does_not_stop_the_others(core):
    author, collect_id = ready_cover_collect(core)
    files = dict(core.storage.files)
    core.storage = BrokenStorage()
    core.storage.files = dict(files)
    detail = core.update_collect(CollectChange(collect_id, author.id, CollectFields(cover=None)))
    assert detail.collect.cover_status is CoverStatus.NONE
    assert core.cache.changed == [collect_id]


# broker outage and the relay


def test_a_broker_outage_keeps_the_message_in_the_outbox(core):
    core.queue.available = False
    detail = core.collect(core.user())
    assert core.queue.published == []
    (row,) = core.db.outbox.values()
    assert row.message.task == SendEmail(EmailKind.COLLECT_CREATED, detail.collect.id)
    assert row.finished_at is None


def test_the_relay_publishes_unfinished_messages_after_the_grace_period(core):
    core.queue.available = False
    detail = core.collect(core.user())
    core.queue.available = True
    assert core.relay() == 0
    core.clock.advance(seconds=RELAY_GRACE.total_seconds())
    assert core.relay() == 0
    core.clock.advance(seconds=1)
    assert core.relay() == 1
    assert core.queue.tasks == [SendEmail(EmailKind.COLLECT_CREATED, detail.collect.id)]
    (row,) = core.db.outbox.values()
    assert row.relayed_at == core.clock.now()
    assert core.relay() == 0


def test_the_relay_sends_a_lost_message_again_only_after_a_long_while(core):
    core.collect(core.user())
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 1
    core.clock.advance(seconds=RELAY_GRACE.total_seconds())
    assert core.relay() == 0
    core.clock.advance(seconds=RELAY_AGAIN_AFTER.total_seconds())
    assert core.relay() == 1


def test_the_relay_leaves_messages_waiting_while_the_broker_is_down(core):
    core.queue.available = False
    core.collect(core.user())
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 0
    assert all(row.relayed_at is None for row in core.db.outbox.values())


def test_a_message_published_after_commit_and_relayed_again_runs_once(core):
    core.collect(core.user())
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 1
    first, again = core.queue.published
    assert first == again
    core.run_task(first)
    core.run_task(again)
    assert len(core.mailer.sent) == 1


def test_the_relay_leaves_alone_a_message_a_worker_is_running(core):
    core.collect(core.user())
    (row,) = core.db.outbox.values()
    with core.uow() as uow:
        assert uow.outbox.claim(row.message.id, now=core.clock.now(), lease_seconds=300)
        uow.commit()
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 0


class ShortLivedQueue(FakeTaskQueue):
    """Accepts `capacity` messages, then the broker goes down."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def publish(self, message: OutboxMessage) -> None:
        if len(self.published) >= self.capacity:
            raise TaskQueueUnavailable("broker down")
        super().publish(message)


def test_the_relay_records_what_it_published_before_the_broker_failed(core):
    core.queue.available = False
    author = core.user()
    for _ in range(3):
        core.collect(author)
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    queue = ShortLivedQueue(capacity=2)
    assert attrs.evolve(core.relay, queue=queue)() == 2
    rows = list(core.db.outbox.values())
    assert [row.relayed_at is not None for row in rows] == [True, True, False]


def test_the_relay_skips_a_message_that_already_ran(core):
    core.queue.available = False
    core.collect(core.user())
    (row,) = core.db.outbox.values()
    core.run_task(row.message)
    core.queue.available = True
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 0


def test_the_relay_forgets_messages_finished_long_ago(core):
    core.collect(core.user())
    (row,) = core.db.outbox.values()
    core.run_task(row.message)
    core.clock.advance(days=8)
    core.relay()
    assert core.db.outbox == {}


# running tasks


def test_a_message_runs_once(core):
    core.collect(core.user())
    (message,) = core.queue.published
    core.run_task(message)
    core.run_task(message)
    assert len(core.mailer.sent) == 1
    (row,) = core.db.outbox.values()
    assert row.finished_at == core.clock.now()


def test_a_failed_task_releases_its_claim_so_a_retry_runs_it(core):
    core.collect(core.user())
    (message,) = core.queue.published
    core.mailer.failures_left = 1
    with pytest.raises(ConnectionRefusedError):
        core.run_task(message)
    (row,) = core.db.outbox.values()
    assert (row.claimed_until, row.finished_at) == (None, None)
    core.run_task(message)
    assert len(core.mailer.sent) == 1
    assert core.db.outbox[message.id].finished_at is not None


def test_a_message_held_by_another_worker_asks_to_come_back_when_its_lease_ends(core):
    core.collect(core.user())
    (message,) = core.queue.published
    other_worker = core.uow()
    with other_worker:
        assert other_worker.outbox.claim(message.id, now=core.clock.now(), lease_seconds=300)
        other_worker.commit()
    with pytest.raises(TaskHeld) as held:
        core.run_task(message)
    assert held.value.retry_in == 300
    assert core.mailer.sent == []
    core.clock.advance(seconds=301)  # that worker died: its lease ran out
    core.run_task(message)
    assert len(core.mailer.sent) == 1


def test_an_unknown_message_is_skipped(core):
    core.run_task(OutboxMessage(999, SendEmail(EmailKind.COLLECT_CREATED, 1)))
    assert core.mailer.sent == []


def test_a_process_cover_message_runs_the_cover_processing(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    message = next(m for m in core.queue.published if isinstance(m.task, ProcessCover))
    core.run_task(message)
    assert core.db.collects[collect_id].cover.status is CoverStatus.READY


def test_a_task_is_claimed_in_a_committed_transaction_before_it_runs(core):
    core.collect(core.user())
    (message,) = core.queue.published
    seen = []
    run = RunTask(
        core.uow,
        {SendEmail: lambda task: seen.append(core.db.outbox[message.id].claimed_until)},
        core.clock,
    )
    run(message)
    assert seen == [core.clock.now() + run.lease]


# composing e-mails


@pytest.fixture
def donation_scene(core):
    author = core.user("ivan", "Иван", "Петров")
    payer = core.user("olga", "Ольга", "Ли")
    collect_id = core.collect(author, title="Gift", goal_amount=Money.of("5000.00")).collect.id
    return author, payer, collect_id


def donate(core: Core, payer, collect_id: int, *, anonymous: bool = False) -> int:
    result = core.donate(
        Donation(payer.id, collect_id, Money.of("150.00"), "tx-mail", is_anonymous=anonymous)
    )
    return result.payment.id


def test_the_collect_created_email_goes_to_the_author(core, donation_scene):
    _, _, collect_id = donation_scene
    core.run_task(outbox_message(core, EmailKind.COLLECT_CREATED))
    (sent,) = core.mailer.sent
    assert sent.kind is EmailKind.COLLECT_CREATED
    assert (sent.to, sent.recipient_name) == ("ivan@example.com", "Иван Петров")
    assert sent.collect_title == "Gift"
    assert sent.link == f"http://front/collects/{collect_id}"
    assert sent.goal == Money.of("5000.00")
    assert sent.amount is None


def test_the_thank_you_email_goes_to_the_payer(core, donation_scene):
    _, payer, collect_id = donation_scene
    donate(core, payer, collect_id)
    core.run_task(outbox_message(core, EmailKind.DONATION_THANKS))
    (sent,) = core.mailer.sent
    assert (sent.to, sent.recipient_name) == ("olga@example.com", "Ольга Ли")
    assert (sent.amount, sent.collect_title) == (Money.of("150.00"), "Gift")
    assert sent.donor_name == "Ольга Ли"
    assert sent.link == f"http://front/collects/{collect_id}"


def test_the_new_donation_email_goes_to_the_author_and_names_the_donor(core, donation_scene):
    _, payer, collect_id = donation_scene
    donate(core, payer, collect_id)
    core.run_task(outbox_message(core, EmailKind.DONATION_RECEIVED))
    (sent,) = core.mailer.sent
    assert (sent.to, sent.recipient_name) == ("ivan@example.com", "Иван Петров")
    assert (sent.amount, sent.donor_name) == (Money.of("150.00"), "Ольга Ли")


def test_the_new_donation_email_names_an_anonymous_donor_anonymous(core, donation_scene):
    _, payer, collect_id = donation_scene
    donate(core, payer, collect_id, anonymous=True)
    core.run_task(outbox_message(core, EmailKind.DONATION_RECEIVED))
    assert core.mailer.sent[0].donor_name == "Anonymous"


def test_no_thank_you_email_when_the_payer_is_gone(core, donation_scene):
    _, payer, collect_id = donation_scene
    donate(core, payer, collect_id)
    del core.db.users[payer.id]
    core.run_task(outbox_message(core, EmailKind.DONATION_THANKS))
    assert core.mailer.sent == []


def test_the_author_still_hears_of_a_donation_whose_payer_is_gone(core, donation_scene):
    _, payer, collect_id = donation_scene
    donate(core, payer, collect_id)
    del core.db.users[payer.id]
    core.run_task(outbox_message(core, EmailKind.DONATION_RECEIVED))
    assert core.mailer.sent[0].donor_name == "Anonymous"


def test_no_email_when_the_author_is_gone(core, donation_scene):
    author, payer, collect_id = donation_scene
    donate(core, payer, collect_id)
    del core.db.users[author.id]
    core.run_task(outbox_message(core, EmailKind.COLLECT_CREATED))
    core.run_task(outbox_message(core, EmailKind.DONATION_RECEIVED))
    assert core.mailer.sent == []


def test_no_email_for_a_collect_or_payment_that_is_gone(core, donation_scene):
    author, _, collect_id = donation_scene
    core.delete_collect(CollectDeletion(collect_id, author.id))
    core.run_task(outbox_message(core, EmailKind.COLLECT_CREATED))
    core.deliver_email(SendEmail(EmailKind.DONATION_THANKS, 999))
    assert core.mailer.sent == []


def test_giving_up_buries_the_message_and_records_the_covers_failure(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    message = next(m for m in core.queue.published if isinstance(m.task, ProcessCover))
    run = RunTask(
        core.uow,
        {ProcessCover: core.process_cover},
        core.clock,
        give_ups={ProcessCover: core.process_cover.give_up},
    )
    run.give_up(message)
    assert core.db.outbox[message.id].dead_at == core.clock.now()
    assert core.db.collects[collect_id].cover.status is CoverStatus.FAILED
    run(message)  # a buried message never runs again
    assert core.db.collects[collect_id].cover.status is CoverStatus.FAILED
