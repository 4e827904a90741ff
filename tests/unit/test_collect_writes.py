"""Collect use cases that write: create, update and delete."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from fundraising.application.errors import (
    AuthenticationFailed,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    NewCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.domain.collect import CoverStatus, Occasion
from fundraising.domain.errors import Conflict
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from tests.fakes import FakeCollectQueries, FakeTaskQueue, image_upload
from tests.unit.collect_use_case_helpers import CommitWitnessCache, change


class CommitWitnessQueue(FakeTaskQueue):
    """Records, for each publication, whether the latest unit of work had committed."""

    def __init__(self, core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_published: list[bool] = []

    def publish(self, message) -> None:
        self.committed_when_published.append(self.core.uows[-1].committed)
        super().publish(message)


def delete(core, collect_id: int, actor_id: int) -> None:
    core.delete_collect(CollectDeletion(collect_id, actor_id))


def field_names(raised) -> list[str]:
    return [e.field for e in raised.value.errors]


# create


def test_create_returns_the_detail_of_a_new_collect(core):
    ivan = core.user("ivan", "Иван", "Петров")
    detail = core.collect(ivan, title=" Gift ", goal_amount=Money.of("5000.00"))
    view = detail.collect
    assert view.title == "Gift"
    assert view.created_by == ivan.id
    assert view.author_name == "Иван Петров"
    assert view.collected_amount == Money.zero()
    assert (view.donations_count, view.donors_count) == (0, 0)
    assert view.progress == Decimal("0.0")
    assert view.is_active
    assert view.cover_status is CoverStatus.NONE
    assert view.cover_image is None
    assert view.start_date == view.created_at == view.updated_at == core.clock.now()
    assert detail.payments == ()


def test_create_names_the_author_by_username_without_a_name(core):
    ivan = core.user("ivan")
    assert core.collect(ivan).collect.author_name == "ivan"


def test_create_defaults_occasion_to_other_and_leaves_the_rest_empty(core):
    view = core.collect(core.user()).collect
    assert view.occasion is Occasion.OTHER
    assert view.description == ""
    assert view.goal_amount is None
    assert view.progress is None
    assert view.end_date is None


def test_create_stores_the_collect(core):
    detail = core.collect(core.user(), occasion=Occasion.WEDDING, description="For the couple")
    assert core.get_collect(detail.collect.id) == detail


def test_create_requires_a_title(core):
    ivan = core.user()
    with pytest.raises(ValidationFailed) as raised:
        core.create_collect(NewCollect(ivan.id, CollectFields()))
    assert raised.value.errors == (FieldError("title", "This field is required."),)
    assert core.db.collects == {}


def test_create_names_every_invalid_field_at_once(core):
    ivan = core.user()
    fields = CollectFields(
        description="x" * 10_001,
        end_date=core.clock.now(),
        conversion_errors=(FieldError("goal_amount", "Must be a decimal number."),),
    )
    with pytest.raises(ValidationFailed) as raised:
        core.create_collect(NewCollect(ivan.id, fields))
    assert field_names(raised) == ["goal_amount", "title", "description", "end_date"]


def test_create_does_not_require_a_title_the_edge_already_rejected(core):
    ivan = core.user()
    rejected = (FieldError("title", "Not a valid string."),)
    with pytest.raises(ValidationFailed) as raised:
        core.create_collect(NewCollect(ivan.id, CollectFields(conversion_errors=rejected)))
    assert raised.value.errors == rejected


def test_create_ignores_is_active_a_new_collect_is_always_active(core):
    assert core.collect(core.user(), is_active=False).collect.is_active


def test_create_enqueues_the_collect_created_email_published_after_commit(core):
    core.queue = witness = CommitWitnessQueue(core)
    detail = core.collect(core.user())
    assert witness.tasks == [SendEmail(EmailKind.COLLECT_CREATED, detail.collect.id)]
    assert witness.committed_when_published == [True]


def test_create_invalidates_the_cache_after_commit(core):
    core.cache = witness = CommitWitnessCache(core)
    detail = core.collect(core.user())
    assert witness.changed == [detail.collect.id]
    assert witness.committed_when_changed == [True]


def test_create_sends_no_email_for_an_invalid_collect(core):
    with pytest.raises(ValidationFailed):
        core.collect(core.user(), title="")
    assert core.queue.published == []
    assert core.db.outbox == {}
    assert core.cache.changed == []


def test_create_by_a_user_who_no_longer_exists_is_refused_and_stores_nothing(core):
    ghost = core.user("ghost")
    del core.db.users[ghost.id]
    fields = CollectFields(title="Gift", cover=Upload(image_upload()))
    with pytest.raises(AuthenticationFailed):
        core.create_collect(NewCollect(ghost.id, fields))
    assert core.db.collects == {}
    assert core.storage.files == {}
    assert core.queue.published == []


def test_create_by_a_user_who_no_longer_exists_is_refused_before_validation(core):
    ghost = core.user("ghost")
    del core.db.users[ghost.id]
    with pytest.raises(AuthenticationFailed):
        core.create_collect(NewCollect(ghost.id, CollectFields(title="")))


def test_create_by_an_inactive_user_is_refused(core):
    ivan = core.user()
    core.db.users[ivan.id].is_active = False
    with pytest.raises(AuthenticationFailed):
        core.collect(ivan)


# update


def test_the_author_updates_a_collect(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.clock.advance(minutes=5)
    detail = change(
        core,
        created.id,
        ivan.id,
        title="New",
        description="More",
        occasion=Occasion.NEW_YEAR,
        goal_amount=Money.of("10.00"),
        end_date=core.clock.now() + timedelta(days=1),
        is_active=False,
    )
    view = detail.collect
    assert (view.title, view.description, view.occasion) == ("New", "More", Occasion.NEW_YEAR)
    assert view.goal_amount == Money.of("10.00")
    assert view.end_date == core.clock.now() + timedelta(days=1)
    assert not view.is_active
    assert view.updated_at == core.clock.now()
    assert view.created_at == created.created_at
    assert core.get_collect(created.id) == detail


def test_update_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        change(core, 999, core.user().id, title="New")


def test_a_non_author_may_not_update(core):
    ivan, olga = core.user("ivan"), core.user("olga")
    created = core.collect(ivan).collect
    with pytest.raises(PermissionDenied):
        change(core, created.id, olga.id, title="Mine now")
    assert core.get_collect(created.id).collect.title == created.title
    assert core.cache.changed == [created.id]


def test_update_checks_existence_before_validation(core):
    with pytest.raises(NotFound):
        change(
            core,
            999,
            core.user().id,
            title="",
            conversion_errors=(FieldError("goal_amount", "bad"),),
        )


def test_update_checks_permission_before_validation(core):
    ivan, olga = core.user("ivan"), core.user("olga")
    created = core.collect(ivan).collect
    with pytest.raises(PermissionDenied):
        change(
            core,
            created.id,
            olga.id,
            title="",
            conversion_errors=(FieldError("goal_amount", "bad"),),
        )


def test_update_names_every_invalid_field_and_changes_nothing(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    with pytest.raises(ValidationFailed) as raised:
        change(
            core,
            created.id,
            ivan.id,
            title="",
            description="x" * 10_001,
            end_date=core.clock.now(),
            is_active=False,
            conversion_errors=(FieldError("goal_amount", "bad"),),
        )
    assert field_names(raised) == ["goal_amount", "title", "description", "end_date"]
    assert core.get_collect(created.id).collect == created


def test_an_empty_update_changes_no_field_and_returns_the_detail(core):
    ivan = core.user()
    created = core.collect(ivan, description="Text", goal_amount=Money.of("100.00"))
    core.give(core.user("olga"), created.collect.id)
    before = core.get_collect(created.collect.id)
    detail = change(core, created.collect.id, ivan.id)
    assert detail == core.get_collect(created.collect.id)
    assert detail.payments == before.payments
    view, old = detail.collect, before.collect
    assert (view.title, view.description, view.goal_amount, view.is_active) == (
        old.title,
        old.description,
        old.goal_amount,
        old.is_active,
    )
    assert view.collected_amount == Money.of("100.00")


def test_update_never_touches_counters_author_or_creation_dates(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.give(core.user("olga"), created.id, "250.00")
    core.clock.advance(days=1)
    view = change(core, created.id, ivan.id, title="Renamed").collect
    assert view.collected_amount == Money.of("250.00")
    assert (view.donations_count, view.donors_count) == (1, 1)
    assert view.created_by == ivan.id
    assert (view.start_date, view.created_at) == (created.start_date, created.created_at)


def test_update_may_clear_goal_and_end_date(core):
    ivan = core.user()
    created = core.collect(
        ivan, goal_amount=Money.of("1.00"), end_date=core.clock.now() + timedelta(days=1)
    ).collect
    view = change(core, created.id, ivan.id, goal_amount=None, end_date=None).collect
    assert (view.goal_amount, view.end_date, view.progress) == (None, None, None)


def test_update_invalidates_the_cache_after_commit_and_sends_no_email(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.cache = witness = CommitWitnessCache(core)
    published = len(core.queue.published)
    change(core, created.id, ivan.id, title="New")
    assert witness.changed == [created.id]
    assert witness.committed_when_changed == [True]
    assert len(core.queue.published) == published


class VanishingQueries(FakeCollectQueries):
    """The collect is deleted by a concurrent request between the update and its read-back."""

    def detail(self, collect_id: int):
        return None


def test_an_update_whose_collect_vanished_before_the_read_back_is_not_found(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    update = attrs.evolve(core.update_collect, queries=VanishingQueries(core.db))
    with pytest.raises(NotFound):
        update(CollectChange(created.id, ivan.id, CollectFields(title="New")))


def test_a_deactivated_collect_takes_no_donations(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    change(core, created.id, ivan.id, is_active=False)
    with pytest.raises(Conflict):
        core.give(ivan, created.id)


# delete


def test_the_author_deletes_a_collect_without_payments(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    delete(core, created.id, ivan.id)
    with pytest.raises(NotFound):
        core.get_collect(created.id)
    assert core.cache.changed == [created.id, created.id]


def test_delete_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        delete(core, 999, core.user().id)


def test_a_non_author_may_not_delete(core):
    ivan, olga = core.user("ivan"), core.user("olga")
    created = core.collect(ivan).collect
    with pytest.raises(PermissionDenied):
        delete(core, created.id, olga.id)
    assert core.get_collect(created.id)


def test_a_collect_with_payments_is_not_deleted_and_the_answer_says_to_deactivate(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.give(core.user("olga"), created.id)
    with pytest.raises(Conflict) as raised:
        delete(core, created.id, ivan.id)
    assert "deactivate" in raised.value.detail
    assert core.get_collect(created.id).collect.donations_count == 1


def test_a_collect_with_only_a_pending_payment_is_not_deleted_either(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.uow().payments.insert(
        Payment(
            id=None,
            collect_id=created.id,
            payer_id=ivan.id,
            amount=Money.of("5.00"),
            status=PaymentStatus.PENDING,
            transaction_id="pending-1",
            payment_date=core.clock.now(),
        )
    )
    with pytest.raises(Conflict):
        delete(core, created.id, ivan.id)


def test_a_non_author_deleting_a_collect_with_payments_is_denied_not_conflicted(core):
    ivan, olga = core.user("ivan"), core.user("olga")
    created = core.collect(ivan).collect
    core.give(olga, created.id)
    with pytest.raises(PermissionDenied):
        delete(core, created.id, olga.id)
