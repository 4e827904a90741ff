"""Collect use cases: create, update, delete, read, list and the feed."""

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
from fundraising.application.pagination import MAX_PAGE_SIZE, PageRequest
from fundraising.application.ports.queries import CollectFilter, CollectOrdering
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    Moderation,
    NewCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.application.use_cases.payments import Donation
from fundraising.domain.collect import CollectStatus, CoverStatus, Occasion
from fundraising.domain.errors import Conflict
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from tests.fakes import FakeCache, FakeCollectQueries, FakeTaskQueue, image_upload


class CommitWitnessQueue(FakeTaskQueue):
    """Records, for each publication, whether the latest unit of work had committed."""

    def __init__(self, core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_published: list[bool] = []

    def publish(self, message) -> None:
        self.committed_when_published.append(self.core.uows[-1].committed)
        super().publish(message)


class CommitWitnessCache(FakeCache):
    def __init__(self, core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_changed: list[bool] = []

    def collect_changed(self, collect_id: int) -> None:
        self.committed_when_changed.append(self.core.uows[-1].committed)
        super().collect_changed(collect_id)


def change(core, collect_id: int, actor_id: int, **fields: object):
    return core.update_collect(CollectChange(collect_id, actor_id, CollectFields(**fields)))


def delete(core, collect_id: int, actor_id: int) -> None:
    core.delete_collect(CollectDeletion(collect_id, actor_id))


def ids(page) -> list[int]:
    return [view.id for view in page.items]


def list_ids(core, page: PageRequest | None = None, **filters: object) -> list[int]:
    return ids(core.list_collects(CollectFilter(**filters), page or PageRequest.of(1, 100)))


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


# deactivate (an administrator's action)


def moderate(core):
    return core.moderate_collect


def deactivate(core):
    return lambda collect_id: moderate(core)(Moderation(collect_id, "deactivate"))


def test_an_administrator_deactivates_anyones_collect(core):
    ivan = core.user()
    created = core.collect(ivan, description="Keep me").collect
    core.give(core.user("olga"), created.id, "40.00")
    core.clock.advance(hours=1)
    core.cache = witness = CommitWitnessCache(core)
    deactivate(core)(created.id)
    view = core.get_collect(created.id).collect
    assert not view.is_active
    assert view.updated_at == core.clock.now()
    assert (view.title, view.description) == (created.title, "Keep me")
    assert view.collected_amount == Money.of("40.00")
    assert witness.changed == [created.id]
    assert witness.committed_when_changed == [True]


def test_a_deactivated_collect_refuses_new_donations(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    deactivate(core)(created.id)
    with pytest.raises(Conflict, match="inactive"):
        core.give(ivan, created.id)


def test_deactivating_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        deactivate(core)(999)
    assert core.cache.changed == []


# get


def test_get_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        core.get_collect(999)


def test_the_detail_embeds_the_newest_20_payments_newest_first(core):
    ivan, olga = core.user("ivan"), core.user("olga", "Ольга", "Ли")
    created = core.collect(ivan).collect
    for amount in range(1, 26):
        core.clock.advance(minutes=1)
        core.give(olga, created.id, f"{amount}.00")
    detail = core.get_collect(created.id)
    assert [entry.amount for entry in detail.payments] == [
        Money.of(f"{amount}.00") for amount in range(25, 5, -1)
    ]
    assert detail.payments[0].payment_date == core.clock.now()
    assert {entry.donor_name for entry in detail.payments} == {"Ольга Ли"}
    assert detail.collect.donations_count == 25


def test_the_detail_breaks_payment_time_ties_by_newest_id(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    for amount in ("1.00", "2.00", "3.00"):
        core.give(ivan, created.id, amount)
    assert [e.amount for e in core.get_collect(created.id).payments] == [
        Money.of("3.00"),
        Money.of("2.00"),
        Money.of("1.00"),
    ]


def test_the_feed_shows_anonymous_and_vanished_donors_as_anonymous(core):
    ivan, olga, petr = core.user("ivan"), core.user("olga"), core.user("petr")
    created = core.collect(ivan).collect
    core.donate(Donation(olga.id, created.id, Money.of("5.00"), "anon-1", is_anonymous=True))
    core.give(petr, created.id, "7.00")
    del core.db.users[petr.id]
    assert [e.donor_name for e in core.get_collect(created.id).payments] == [
        "Anonymous",
        "Anonymous",
    ]


def test_the_feed_leaves_out_payments_that_are_not_completed(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.uow().payments.insert(
        Payment(
            id=None,
            collect_id=created.id,
            payer_id=ivan.id,
            amount=Money.of("5.00"),
            status=PaymentStatus.FAILED,
            transaction_id="failed-1",
            payment_date=core.clock.now(),
        )
    )
    assert core.get_collect(created.id).payments == ()
    assert core.list_feed(created.id, PageRequest.of()).count == 0


# list: filters


@pytest.fixture
def catalogue(core):
    """Four collects by two authors: occasions, activity and texts to filter on."""
    ivan, olga = core.user("ivan"), core.user("olga")
    made = {
        "gift": core.collect(
            ivan, title="Gift for Anna", occasion=Occasion.BIRTHDAY, description="Flowers"
        ),
        "wedding": core.collect(olga, title="Wedding", occasion=Occasion.WEDDING),
        "party": core.collect(ivan, title="New year party", description="A BIG cake"),
        "closed": core.collect(olga, title="Old birthday", occasion=Occasion.BIRTHDAY),
    }
    change(core, made["closed"].collect.id, olga.id, is_active=False)
    ids_by_name = {name: detail.collect.id for name, detail in made.items()}
    return ivan, olga, ids_by_name


def test_list_shows_every_collect_newest_first_by_default(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core) == sorted(made.values(), reverse=True)


def test_list_filters_by_occasion(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core, occasion=Occasion.BIRTHDAY) == [made["closed"], made["gift"]]


def test_list_filters_by_activity(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core, is_active=False) == [made["closed"]]
    assert made["closed"] not in list_ids(core, is_active=True)


def test_list_filters_by_author(core, catalogue):
    ivan, _, made = catalogue
    assert list_ids(core, author_id=ivan.id) == [made["party"], made["gift"]]


@pytest.mark.parametrize("search", ["cake", "CAKE", "big Cake", "new YEAR"])
def test_list_searches_title_and_description_ignoring_case(core, catalogue, search):
    _, _, made = catalogue
    assert list_ids(core, search=search) == [made["party"]]


def test_list_combines_filters(core, catalogue):
    _, olga, made = catalogue
    assert list_ids(core, author_id=olga.id, occasion=Occasion.BIRTHDAY, is_active=False) == [
        made["closed"]
    ]
    assert list_ids(core, author_id=olga.id, search="anna") == []


# list: ordering


@pytest.fixture
def ordered(core):
    """c1..c4 with ties on every ordering field, so that the id must break them."""
    ivan, olga = core.user("ivan"), core.user("olga")
    start = core.clock.now()

    def make(end_in_days: int) -> int:
        end = start + timedelta(days=end_in_days)
        return core.collect(ivan, end_date=end).collect.id

    c1 = make(3)
    core.clock.advance(hours=1)
    c2, c3 = make(1), make(3)
    core.clock.advance(hours=1)
    c4 = make(2)
    core.give(olga, c1, "100.00")
    core.give(olga, c2, "300.00")
    core.give(olga, c3, "100.00")
    return c1, c2, c3, c4


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (CollectOrdering.CREATED_AT, (1, 2, 3, 4)),
        (CollectOrdering.CREATED_AT_DESC, (4, 3, 2, 1)),
        (CollectOrdering.END_DATE, (2, 4, 1, 3)),
        (CollectOrdering.END_DATE_DESC, (3, 1, 4, 2)),
        (CollectOrdering.COLLECTED_AMOUNT, (4, 1, 3, 2)),
        (CollectOrdering.COLLECTED_AMOUNT_DESC, (2, 3, 1, 4)),
    ],
)
def test_list_orders_with_the_id_breaking_ties(core, ordered, ordering, expected):
    assert list_ids(core, ordering=ordering) == [ordered[n - 1] for n in expected]


def test_ordering_names_its_field_and_direction():
    assert CollectOrdering("-collected_amount").field == "collected_amount"
    assert CollectOrdering("-collected_amount").descending
    assert not CollectOrdering("end_date").descending


def test_an_unknown_ordering_is_not_an_ordering():
    with pytest.raises(ValueError, match="is not a valid CollectOrdering"):
        CollectOrdering("title")


# list: pagination


def test_page_one_of_an_empty_list_exists(core):
    page = core.list_collects(CollectFilter(), PageRequest.of())
    assert (page.items, page.count, page.number) == ([], 0, 1)
    assert not page.has_next
    assert not page.has_previous


def test_a_page_past_the_end_is_not_found(core):
    ivan = core.user()
    for _ in range(10):
        core.collect(ivan)
    assert len(ids(core.list_collects(CollectFilter(), PageRequest.of(1, 10)))) == 10
    with pytest.raises(NotFound):
        core.list_collects(CollectFilter(), PageRequest.of(2, 10))


def test_the_last_page_holds_the_rest(core):
    ivan = core.user()
    made = [core.collect(ivan).collect.id for _ in range(15)]
    first = core.list_collects(CollectFilter(), PageRequest.of(1, 10))
    last = core.list_collects(CollectFilter(), PageRequest.of(2, 10))
    assert ids(first) + ids(last) == made[::-1]
    assert (first.has_next, first.has_previous) == (True, False)
    assert (last.has_next, last.has_previous) == (False, True)
    assert last.count == 15


@pytest.mark.parametrize("page", [0, -1])
def test_a_page_below_one_is_not_found(page):
    with pytest.raises(NotFound):
        PageRequest.of(page)


@pytest.mark.parametrize("size", [0, -5])
def test_a_page_size_below_one_is_invalid(size):
    with pytest.raises(ValidationFailed) as raised:
        PageRequest.of(1, size)
    assert [e.field for e in raised.value.errors] == ["page_size"]


def test_the_page_size_defaults_to_10_and_is_clamped_to_100():
    assert PageRequest.of().size == 10
    assert PageRequest.of(1, 1000).size == MAX_PAGE_SIZE == 100
    assert PageRequest.of(3, 20).offset == 40


# the feed


def test_the_feed_pages_through_completed_payments_newest_first(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    for amount in range(1, 13):
        core.clock.advance(seconds=1)
        core.give(ivan, created.id, f"{amount}.00")
    second = core.list_feed(created.id, PageRequest.of(2, 5))
    assert [e.amount for e in second.items] == [Money.of(f"{a}.00") for a in (7, 6, 5, 4, 3)]
    assert second.count == 12


def test_the_feed_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        core.list_feed(999, PageRequest.of())


def test_an_empty_feed_has_page_one_but_no_page_two(core):
    created = core.collect(core.user()).collect
    assert core.list_feed(created.id, PageRequest.of()).items == []
    with pytest.raises(NotFound):
        core.list_feed(created.id, PageRequest.of(2))


# block and unblock (an administrator's decision the author cannot undo)


def block(core, collect_id: int, reason: str | None = "spam") -> None:
    moderate(core)(Moderation(collect_id, "block", reason))


def test_a_blocked_collect_refuses_donations_and_says_blocked(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    with pytest.raises(Conflict, match="blocked"):
        core.give(core.user("olga"), created.id)
    assert core.db.collects[created.id].status(core.clock.now()) is CollectStatus.BLOCKED
    assert core.get_collect(created.id).collect.blocked


def test_its_author_cannot_undo_a_block_by_reactivating_it(core):
    """`PATCH is_active: true` once undid an administrator's deactivation."""
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    for fields in ({"is_active": True}, {"title": "New"}, {}):
        with pytest.raises(Conflict, match="blocked"):
            change(core, created.id, ivan.id, **fields)
    assert core.db.collects[created.id].blocked_at is not None


def test_a_blocked_collect_still_answers_403_and_400_first(core):
    ivan, olga = core.user(), core.user("olga")
    created = core.collect(ivan).collect
    block(core, created.id)
    with pytest.raises(PermissionDenied):
        change(core, created.id, olga.id, title="Mine")
    with pytest.raises(ValidationFailed):
        change(core, created.id, ivan.id, title=" ")


def test_unblocking_gives_the_collect_back_as_it_was(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    moderate(core)(Moderation(created.id, "unblock"))
    core.give(core.user("olga"), created.id, "10.00")
    change(core, created.id, ivan.id, title="Renamed")
    stored = core.db.collects[created.id]
    assert (stored.blocked_at, stored.block_reason, stored.title) == (None, None, "Renamed")
    assert stored.collected == Money.of("10.00")


def test_an_administrator_may_deactivate_a_blocked_collect(core):
    created = core.collect(core.user()).collect
    block(core, created.id)
    deactivate(core)(created.id)
    stored = core.db.collects[created.id]
    assert not stored.is_active
    assert stored.status(core.clock.now()) is CollectStatus.BLOCKED


def test_a_block_reason_is_bounded_and_kept(core):
    created = core.collect(core.user()).collect
    with pytest.raises(ValidationFailed):
        block(core, created.id, "x" * 501)
    block(core, created.id, "Сбор на чужую карту")
    assert core.db.collects[created.id].block_reason == "Сбор на чужую карту"


def test_blocking_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        block(core, 999)
