"""Collect rules: opening and changing a collect, when it takes donations, progress, its cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fundraising.domain.collect import (
    Collect,
    CollectStatus,
    Cover,
    CoverStatus,
    Occasion,
    collect_status,
    progress,
)
from fundraising.domain.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    ValidationFailed,
)
from fundraising.domain.money import Money

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
AUTHOR = 7


def open_collect(**overrides: Any) -> Collect:
    values: dict[str, Any] = {
        "author_id": AUTHOR,
        "title": "Gift for Anna",
        "occasion": Occasion.BIRTHDAY,
        "description": "Flowers and a book",
        "goal": Money.of("5000.00"),
        "end_date": NOW + timedelta(days=7),
        "now": NOW,
        "share_key": "a-share-key",
    }
    values.update(overrides)
    return Collect.open(**values)


def fields_of(error: ValidationFailed) -> list[str]:
    return [e.field for e in error.errors]


# opening


def test_open_makes_an_active_collect_with_zero_counters():
    collect = open_collect()
    assert collect.id is None
    assert collect.is_active
    assert collect.collected == Money.zero()
    assert (collect.donations_count, collect.donors_count) == (0, 0)
    assert collect.cover == Cover()
    assert collect.start_date == collect.created_at == collect.updated_at == NOW


def test_open_strips_the_title():
    assert open_collect(title="  Gift  ").title == "Gift"


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_open_rejects_a_blank_title(title):
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title=title)
    assert raised.value.errors == (FieldError("title", "May not be blank."),)


def test_open_accepts_a_title_of_255_characters_counted_as_code_points():
    assert open_collect(title="я" * 255).title == "я" * 255


def test_open_measures_the_title_as_sent_and_keeps_it_stripped():
    # The length the OpenAPI document states (maxLength 255) is the one of the value sent.
    assert open_collect(title=" " + "x" * 253 + " ").title == "x" * 253
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title=" " + "x" * 255 + " ")
    assert fields_of(raised.value) == ["title"]


def test_open_rejects_a_title_of_256_characters():
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title="x" * 256)
    assert fields_of(raised.value) == ["title"]
    assert "255" in raised.value.errors[0].message


def test_open_accepts_a_description_of_10000_characters():
    assert len(open_collect(description="ж" * 10_000).description) == 10_000


def test_open_rejects_a_description_over_10000_characters():
    with pytest.raises(ValidationFailed) as raised:
        open_collect(description="x" * 10_001)
    assert fields_of(raised.value) == ["description"]


@pytest.mark.parametrize("end_date", [NOW, NOW - timedelta(seconds=1), NOW - timedelta(days=365)])
def test_open_rejects_an_end_date_not_in_the_future(end_date):
    with pytest.raises(ValidationFailed) as raised:
        open_collect(end_date=end_date)
    assert raised.value.errors == (FieldError("end_date", "Must be in the future."),)


def test_open_accepts_an_end_date_just_after_now():
    end = NOW + timedelta(microseconds=1)
    assert open_collect(end_date=end).end_date == end


def test_open_accepts_no_end_date_and_no_goal():
    collect = open_collect(end_date=None, goal=None)
    assert collect.end_date is None
    assert collect.goal is None


def test_open_reports_every_offending_field_in_one_error():
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title=" ", description="x" * 10_001, end_date=NOW)
    assert fields_of(raised.value) == ["title", "description", "end_date"]
    assert raised.value.detail == "Invalid input: title, description, end_date."


def test_open_reports_errors_found_earlier_together_with_its_own():
    earlier = FieldErrors([FieldError("goal_amount", "Must be a decimal number.")])
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title="", errors=earlier)
    assert fields_of(raised.value) == ["goal_amount", "title"]


def test_open_does_not_report_a_field_twice():
    earlier = FieldErrors([FieldError("title", "This field is required.")])
    with pytest.raises(ValidationFailed) as raised:
        open_collect(title="", errors=earlier)
    assert raised.value.errors == (FieldError("title", "This field is required."),)


def test_validation_failed_single_names_one_field():
    error = ValidationFailed.single("page_size", "Must be a positive integer.")
    assert error.errors == (FieldError("page_size", "Must be a positive integer."),)
    assert error.detail == "Invalid input: page_size."


def test_field_errors_is_false_until_an_error_is_added():
    errors = FieldErrors()
    assert not errors
    errors.raise_if_any()
    errors.add("title", "bad")
    assert errors
    assert "title" in errors
    assert "description" not in errors


# changing


def test_change_applies_the_given_fields_and_stamps_updated_at():
    collect = open_collect()
    collect.change(
        now=LATER,
        title="  New title ",
        occasion=Occasion.WEDDING,
        description="New text",
        goal=Money.of("100.00"),
        end_date=LATER + timedelta(days=1),
        is_active=False,
    )
    assert collect.title == "New title"
    assert collect.occasion is Occasion.WEDDING
    assert collect.description == "New text"
    assert collect.goal == Money.of("100.00")
    assert collect.end_date == LATER + timedelta(days=1)
    assert not collect.is_active
    assert collect.updated_at == LATER
    assert collect.created_at == NOW


def test_change_leaves_unset_fields_alone():
    collect = open_collect()
    collect.change(now=LATER, description="Only this")
    assert collect.title == "Gift for Anna"
    assert collect.goal == Money.of("5000.00")
    assert collect.end_date == NOW + timedelta(days=7)
    assert collect.occasion is Occasion.BIRTHDAY
    assert collect.is_active


def test_change_clears_goal_and_end_date_with_none():
    collect = open_collect()
    collect.change(now=LATER, goal=None, end_date=None)
    assert collect.goal is None
    assert collect.end_date is None


def test_change_is_all_or_nothing():
    collect = open_collect()
    with pytest.raises(ValidationFailed):
        collect.change(now=LATER, title="Valid", description="x" * 10_001, is_active=False)
    assert collect.title == "Gift for Anna"
    assert collect.description == "Flowers and a book"
    assert collect.is_active
    assert collect.updated_at == NOW


def test_change_reports_every_invalid_field_at_once():
    collect = open_collect()
    with pytest.raises(ValidationFailed) as raised:
        collect.change(now=LATER, title="", description="x" * 10_001, end_date=LATER)
    assert fields_of(raised.value) == ["title", "description", "end_date"]


def test_change_checks_the_end_date_against_the_time_of_the_change():
    collect = open_collect()
    with pytest.raises(ValidationFailed):
        collect.change(now=LATER, end_date=NOW + timedelta(minutes=30))


def test_change_reports_earlier_errors_even_when_its_own_fields_are_valid():
    collect = open_collect()
    with pytest.raises(ValidationFailed) as raised:
        collect.change(
            now=LATER, title="Fine", errors=FieldErrors([FieldError("cover", "Not an image.")])
        )
    assert fields_of(raised.value) == ["cover"]
    assert collect.title == "Gift for Anna"


# donations


def test_an_active_collect_without_end_accepts_donations():
    assert open_collect(end_date=None).accepts_donations(NOW + timedelta(days=3650))


def test_a_collect_accepts_donations_until_just_before_its_end():
    end = NOW + timedelta(days=1)
    collect = open_collect(end_date=end)
    assert collect.accepts_donations(end - timedelta(microseconds=1))
    assert not collect.accepts_donations(end)
    assert not collect.accepts_donations(end + timedelta(seconds=1))


def test_an_inactive_collect_accepts_no_donations():
    collect = open_collect(end_date=None)
    collect.change(now=NOW, is_active=False)
    assert not collect.accepts_donations(NOW)


def test_ensure_accepts_donations_passes_for_an_open_collect():
    assert open_collect().ensure_accepts_donations(NOW) is None


def test_ensure_accepts_donations_names_an_inactive_collect():
    collect = open_collect()
    collect.change(now=NOW, is_active=False)
    with pytest.raises(Conflict, match="inactive"):
        collect.ensure_accepts_donations(NOW)


def test_ensure_accepts_donations_names_an_ended_collect():
    collect = open_collect(end_date=NOW + timedelta(days=1))
    with pytest.raises(Conflict, match="ended"):
        collect.ensure_accepts_donations(NOW + timedelta(days=1))


def test_a_collect_without_payments_may_be_deleted():
    assert open_collect().ensure_deletable(has_payments=False) is None


def test_a_collect_with_payments_may_not_be_deleted_and_says_to_deactivate_it():
    with pytest.raises(Conflict) as raised:
        open_collect().ensure_deletable(has_payments=True)
    assert "deactivate" in raised.value.detail


# progress


def test_progress_is_none_without_a_goal():
    assert open_collect(goal=None).progress is None


def test_progress_is_a_percentage_of_the_goal():
    collect = open_collect(goal=Money.of("5000.00"))
    collect.collected = Money.of("1250.00")
    assert collect.progress == Decimal("25.0")


def test_progress_starts_at_zero():
    assert open_collect(goal=Money.of("10.00")).progress == Decimal("0.0")


@pytest.mark.parametrize(
    ("collected", "goal", "expected"),
    [
        ("1.00", "3.00", "33.3"),
        ("2.00", "3.00", "66.7"),
        ("1.00", "400.00", "0.3"),  # 0.25 rounds half up, not to even
        ("1.00", "2000.00", "0.1"),  # 0.05 rounds half up
        ("1.00", "30000.00", "0.0"),
        ("150.00", "100.00", "150.0"),
        ("9999999999.99", "0.01", "99999999999900.0"),
    ],
)
def test_progress_is_rounded_half_up_to_one_decimal_and_may_exceed_100(collected, goal, expected):
    result = progress(Money.of(collected), Money.of(goal))
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -1


# cover


def test_a_new_collect_has_no_cover_and_no_files():
    cover = open_collect().cover
    assert cover.status is CoverStatus.NONE
    assert cover.files == ()


def test_attach_cover_starts_processing_the_upload():
    collect = open_collect()
    obsolete = collect.attach_cover("uploads/1.upload", LATER)
    assert obsolete == ()
    assert collect.cover == Cover(CoverStatus.PROCESSING, source="uploads/1.upload")
    assert collect.updated_at == LATER


def test_attach_cover_returns_the_upload_it_replaces():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    assert collect.attach_cover("uploads/2.upload", LATER) == ("uploads/1.upload",)
    assert collect.cover.source == "uploads/2.upload"


def test_attach_cover_returns_the_ready_image_it_replaces():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    collect.finish_cover("uploads/1.upload", "covers/1.jpg", NOW)
    assert collect.attach_cover("uploads/2.upload", LATER) == ("covers/1.jpg",)


def test_remove_cover_returns_its_files_and_leaves_none():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    assert collect.remove_cover(LATER) == ("uploads/1.upload",)
    assert collect.cover == Cover()
    assert collect.updated_at == LATER


def test_remove_cover_without_a_cover_returns_nothing():
    assert open_collect().remove_cover(LATER) == ()


def test_finish_cover_with_an_image_makes_it_ready():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    assert collect.finish_cover("uploads/1.upload", "covers/1.jpg", LATER)
    assert collect.cover == Cover(CoverStatus.READY, image="covers/1.jpg")
    assert collect.cover.files == ("covers/1.jpg",)
    assert collect.updated_at == LATER


def test_finish_cover_without_an_image_marks_it_failed():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    assert collect.finish_cover("uploads/1.upload", None, LATER)
    assert collect.cover == Cover(CoverStatus.FAILED)
    assert collect.cover.files == ()


def test_finish_cover_ignores_a_superseded_upload():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    collect.attach_cover("uploads/2.upload", NOW)
    assert not collect.finish_cover("uploads/1.upload", "covers/1.jpg", LATER)
    assert collect.cover == Cover(CoverStatus.PROCESSING, source="uploads/2.upload")
    assert collect.updated_at == NOW


def test_finish_cover_twice_changes_nothing_the_second_time():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    collect.finish_cover("uploads/1.upload", "covers/1.jpg", NOW)
    assert not collect.finish_cover("uploads/1.upload", None, LATER)
    assert collect.cover.status is CoverStatus.READY


def test_finish_cover_of_a_removed_cover_is_ignored():
    collect = open_collect()
    collect.attach_cover("uploads/1.upload", NOW)
    collect.remove_cover(NOW)
    assert not collect.finish_cover("uploads/1.upload", "covers/1.jpg", LATER)
    assert collect.cover == Cover()


# status and cancel


@pytest.mark.parametrize(
    ("blocked", "cancelled", "is_active", "ends_in", "status"),
    [
        (True, True, False, -1, CollectStatus.BLOCKED),
        (False, True, False, -1, CollectStatus.CANCELLED),
        (False, False, False, -1, CollectStatus.CLOSED),
        (False, False, True, -1, CollectStatus.ENDED),
        (False, False, True, 0, CollectStatus.ENDED),
        (False, False, True, 1, CollectStatus.OPEN),
        (False, False, True, None, CollectStatus.OPEN),
    ],
)
def test_the_status_is_derived_in_its_order(
    blocked: bool, cancelled: bool, is_active: bool, ends_in: int | None, status: CollectStatus
) -> None:
    end = None if ends_in is None else NOW + timedelta(seconds=ends_in)
    shown = collect_status(
        blocked=blocked, cancelled=cancelled, is_active=is_active, end_date=end, now=NOW
    )
    assert shown is status


def test_the_clock_alone_ends_a_collect() -> None:
    collect = open_collect(end_date=LATER)
    assert collect.status(NOW) is CollectStatus.OPEN
    assert collect.status(LATER) is CollectStatus.ENDED


def test_a_cancel_is_final_and_stops_donations() -> None:
    collect = open_collect()
    collect.cancel(NOW)
    assert (collect.cancelled_at, collect.status(NOW)) == (NOW, CollectStatus.CANCELLED)
    with pytest.raises(Conflict, match="cancelled"):
        collect.ensure_accepts_donations(NOW)
    with pytest.raises(Conflict, match="already"):
        collect.cancel(LATER)
    with pytest.raises(Conflict, match="reopened"):
        collect.change(now=LATER, is_active=True)
    assert collect.change(now=LATER, title="Подарок Анне") is True


def test_a_blocked_collect_is_neither_cancelled_nor_refunded() -> None:
    collect = open_collect()
    collect.block("fraud", NOW)
    with pytest.raises(Conflict):
        collect.cancel(NOW)
    with pytest.raises(Conflict):
        collect.ensure_refundable()
    assert collect.cancelled_at is None
