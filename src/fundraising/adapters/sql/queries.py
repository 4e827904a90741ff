"""The read side in SQL: every page in a fixed number of statements, whatever its size."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    RowMapping,
    Select,
    String,
    distinct,
    func,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from fundraising.adapters.sql import rows
from fundraising.adapters.sql.engine import READ_ONLY
from fundraising.adapters.sql.errors import translated_errors
from fundraising.adapters.sql.tables import (
    collect_members,
    collect_updates,
    collects,
    payments,
    users,
)
from fundraising.adapters.sql.types import from_kopecks
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import (
    FEED_IN_DETAIL,
    CollectFilter,
    Drift,
    Totals,
)
from fundraising.application.views import (
    CollectDetail,
    CollectView,
    ExportedPayment,
    FeedEntry,
    Page,
    ParticipantView,
    PaymentView,
    UpdateView,
)
from fundraising.domain.membership import Access, Role, Visibility
from fundraising.domain.payment import DonationVisibility, PaymentStatus
from fundraising.domain.user import DELETED_USER

T = TypeVar("T")

COMPLETED = PaymentStatus.COMPLETED.value
EXPORT_BATCH = 1_000  # rows fetched at a time from the server while an export streams
_LIKE_ESCAPE = "!"


class unicode_lower(GenericFunction[str]):
    """lower() that folds every alphabet: MySQL's does; SQLite's knows only ASCII."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower, "mysql")
def _lower_on_mysql(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


def _contains(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    escaped = (
        text.lower()
        .replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", f"{_LIKE_ESCAPE}%")
        .replace("_", f"{_LIKE_ESCAPE}_")
    )
    return unicode_lower(column).like(f"%{escaped}%", escape=_LIKE_ESCAPE)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (SQLite: no write lock), with errors translated."""
    with translated_errors(), engine.connect() as plain:
        connection = plain.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection


_author = users.alias("author")
_payer = users.alias("payer")


def _names(table: Any, prefix: str) -> list[ColumnElement[Any]]:
    return [
        table.c.first_name.label(f"{prefix}_first_name"),
        table.c.last_name.label(f"{prefix}_last_name"),
        table.c.username.label(f"{prefix}_username"),
        table.c.deleted_at.label(f"{prefix}_deleted_at"),
    ]


_with_author = collects.join(_author, _author.c.id == collects.c.author_id)


_participants_count = (
    select(func.count())
    .where(collect_members.c.collect_id == collects.c.id)
    .scalar_subquery()
    .label("participants_count")
)


def _collects_with_author() -> Select[Any]:
    return select(collects, *_names(_author, "author"), _participants_count).select_from(
        _with_author
    )


def _collect_view(row: RowMapping) -> CollectView:
    return CollectView.of(
        rows.collect_of(row),
        author_name=rows.person_name(row, "author"),
        participants_count=row["participants_count"],
    )


def _feed_entry(row: RowMapping) -> FeedEntry:
    gone = row["payer_username"] is None or row["payer_deleted_at"] is not None
    payer_name = None if gone else rows.person_name(row, "payer")
    return FeedEntry.of(
        amount=row["amount_kopecks"],
        payment_date=row["payment_date"],
        visibility=DonationVisibility(row["payment_visibility"]),
        comment=row["comment"],
        payer_name=payer_name,
    )


def _feed(collect_id: int) -> Select[Any]:
    p = payments.c
    return (
        select(
            p.id,
            p.collect_id,
            p.amount_kopecks,
            p.payment_date,
            p.visibility.label("payment_visibility"),
            p.comment,
            *_names(_payer, "payer"),
        )
        .select_from(payments.outerjoin(_payer, _payer.c.id == p.payer_id))
        .where(p.collect_id == collect_id, p.status == COMPLETED)
        .order_by(p.payment_date.desc(), p.id.desc())
    )


def _filters(filters: CollectFilter) -> list[ColumnElement[bool]]:
    c = collects.c
    conditions: list[ColumnElement[bool]] = []
    if filters.occasion is not None:
        conditions.append(c.occasion == filters.occasion.value)
    if filters.is_active is not None:
        conditions.append(c.is_active.is_(filters.is_active))
    if filters.author_id is not None:
        conditions.append(c.author_id == filters.author_id)
    if filters.member_id is None:
        conditions.append(c.visibility == Visibility.PUBLIC.value)
    else:
        m = collect_members.c
        mine = select(m.collect_id).where(m.user_id == filters.member_id)
        conditions.append(c.id.in_(mine))
    if filters.search:
        conditions.append(
            or_(_contains(c.title, filters.search), _contains(c.description, filters.search))
        )
    return conditions


_ORDER_COLUMNS = {
    "created_at": collects.c.created_at,
    "end_date": collects.c.end_date,
    "collected_amount": collects.c.collected_kopecks,
}


def _detail(db: Connection, collect_id: int) -> CollectDetail | None:
    # One statement, so the counters and the feed come from one snapshot on any isolation level.
    feed = _feed(collect_id).limit(FEED_IN_DETAIL).subquery("feed")
    query = (
        select(collects, *_names(_author, "author"), _participants_count)
        .add_columns(
            feed.c.id.label("feed_id"),
            feed.c.amount_kopecks,
            feed.c.payment_date,
            feed.c.payment_visibility,
            feed.c.comment,
            feed.c.payer_first_name,
            feed.c.payer_last_name,
            feed.c.payer_username,
            feed.c.payer_deleted_at,
        )
        .select_from(_with_author.outerjoin(feed, feed.c.collect_id == collects.c.id))
        .where(collects.c.id == collect_id)
        .order_by(feed.c.payment_date.desc(), feed.c.id.desc())
    )
    found = db.execute(query).mappings().all()
    if not found:
        return None
    entries = tuple(_feed_entry(row) for row in found if row["feed_id"] is not None)
    return CollectDetail(_collect_view(found[0]), entries)


def _access(db: Connection, collect_id: int) -> Access | None:
    c, m = collects.c, collect_members.c
    query = (
        select(c.visibility, c.hidden_from, m.user_id)
        .select_from(collects.outerjoin(collect_members, m.collect_id == c.id))
        .where(c.id == collect_id)
    )
    found = db.execute(query).all()
    if not found:
        return None
    visibility, hidden = Visibility(found[0][0]), frozenset(found[0][1])
    return Access(visibility, frozenset(row[2] for row in found if row[2]), hidden)


class SqlCollectQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(self, filters: CollectFilter, page: PageRequest) -> Page[CollectView]:
        conditions = _filters(filters)
        column = _ORDER_COLUMNS[filters.ordering.field]
        keys: list[ColumnElement[Any]] = [column, collects.c.id]
        if filters.ordering.field == "end_date":
            # An open-ended collect ends after every dated one; both databases sort NULL first.
            keys.insert(0, column.is_(None))
        order = [key.desc() if filters.ordering.descending else key.asc() for key in keys]
        with reading(self._engine) as db:
            count = db.execute(select(func.count()).select_from(collects).where(*conditions))
            total = count.scalar_one()
            items: list[CollectView] = []
            if page.reaches(total) and total:
                query = (
                    _collects_with_author()
                    .where(*conditions)
                    .order_by(*order)
                    .limit(page.size)
                    .offset(page.offset)
                )
                items = [_collect_view(row) for row in db.execute(query).mappings()]
        return Page(items, total, page.number, page.size)

    def detail(self, collect_id: int) -> CollectDetail | None:
        with reading(self._engine) as db:
            return _detail(db, collect_id)

    def access(self, collect_id: int) -> Access | None:
        with reading(self._engine) as db:
            return _access(db, collect_id)

    def access_and_detail(self, collect_id: int) -> tuple[Access, CollectDetail] | None:
        with reading(self._engine) as db:
            access = _access(db, collect_id)
            detail = None if access is None else _detail(db, collect_id)
        return None if access is None or detail is None else (access, detail)

    def feed(self, collect_id: int, page: PageRequest) -> Page[FeedEntry] | None:
        with reading(self._engine) as db:
            total = db.execute(
                select(collects.c.donations_count).where(collects.c.id == collect_id)
            ).scalar_one_or_none()
            if total is None:
                return None
            entries: list[FeedEntry] = []
            if page.reaches(total) and total:
                query = _feed(collect_id).limit(page.size).offset(page.offset)
                entries = [_feed_entry(row) for row in db.execute(query).mappings()]
        return Page(entries, total, page.number, page.size)

    def participant(self, collect_id: int, user_id: int) -> ParticipantView | None:
        query = _participants_of(collect_id).where(collect_members.c.user_id == user_id)
        with reading(self._engine) as db:
            row = db.execute(query).mappings().first()
        return _participant(row) if row else None

    def participants(
        self, collect_id: int, paid: bool | None, page: PageRequest
    ) -> Page[ParticipantView]:
        query = _participants_of(collect_id)
        if paid is not None:
            paid_kopecks = query.selected_columns.paid_kopecks
            query = query.where(paid_kopecks > 0 if paid else paid_kopecks.is_(None))
        return page_of(self._engine, query, page, _participant)

    def exported(self, collect_id: int) -> Iterator[ExportedPayment]:
        p = payments.c
        kept = (PaymentStatus.COMPLETED.value, PaymentStatus.REFUNDED.value)
        query = (
            select(
                p.id,
                p.payment_date,
                p.status,
                p.amount_kopecks,
                p.visibility,
                p.comment,
                p.transaction_id,
                *_names(_payer, "payer"),
            )
            .select_from(payments.outerjoin(_payer, _payer.c.id == p.payer_id))
            .where(p.collect_id == collect_id, p.status.in_(kept))
            .order_by(p.payment_date, p.id)
        )
        with reading(self._engine) as db:
            streamed = db.execution_options(stream_results=True, yield_per=EXPORT_BATCH)
            for row in streamed.execute(query).mappings():
                gone = row["payer_username"] is None or row["payer_deleted_at"] is not None
                yield ExportedPayment(
                    id=row["id"],
                    payment_date=row["payment_date"],
                    status=PaymentStatus(row["status"]),
                    amount=row["amount_kopecks"],
                    donor_username="" if gone else row["payer_username"],
                    donor_name=DELETED_USER if gone else rows.person_name(row, "payer"),
                    visibility=DonationVisibility(row["visibility"]),
                    comment=row["comment"],
                    transaction_id=row["transaction_id"],
                )

    def updates(self, collect_id: int, page: PageRequest) -> Page[UpdateView]:
        u = collect_updates.c
        writer = users.alias("writer")
        query = (
            select(u.id, u.text, u.created_at, *_names(writer, "writer"))
            .select_from(collect_updates.join(writer, writer.c.id == u.writer_id))
            .where(u.collect_id == collect_id)
            .order_by(u.created_at.desc(), u.id.desc())
        )
        return page_of(self._engine, query, page, _update)


def page_of(
    engine: Engine, query: Select[Any], page: PageRequest, convert: Callable[[RowMapping], T]
) -> Page[T]:
    """One page of an ordered query, and how many rows the whole query has."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    with reading(engine) as db:
        total = db.execute(counted).scalar_one()
        items: list[T] = []
        if page.reaches(total) and total:
            chosen = query.limit(page.size).offset(page.offset)
            items = [convert(row) for row in db.execute(chosen).mappings()]
    return Page(items, total, page.number, page.size)


def _update(row: RowMapping) -> UpdateView:
    return UpdateView(
        id=row["id"],
        text=row["text"],
        author_name=rows.person_name(row, "writer"),
        created_at=row["created_at"],
    )


def _participants_of(collect_id: int) -> Select[Any]:
    """The members of a collect with what each paid (completed payments), oldest first."""
    p, m = payments.c, collect_members.c
    paid = (
        select(
            p.payer_id,
            func.sum(p.amount_kopecks, type_=BigInteger).label("paid_kopecks"),
            func.count().label("donations_count"),
            func.max(p.payment_date).label("last_payment_at"),
        )
        .where(p.collect_id == collect_id, p.status == COMPLETED)
        .group_by(p.payer_id)
        .subquery("paid")
    )
    person = users.alias("person")
    return (
        select(
            m.user_id,
            m.role,
            m.joined_at,
            m.last_reminded_at,
            paid.c.paid_kopecks,
            paid.c.donations_count,
            paid.c.last_payment_at,
            *_names(person, "person"),
        )
        .select_from(
            collect_members.join(person, person.c.id == m.user_id).outerjoin(
                paid, paid.c.payer_id == m.user_id
            )
        )
        .where(m.collect_id == collect_id)
        .order_by(m.joined_at, m.user_id)
    )


def _participant(row: RowMapping) -> ParticipantView:
    return ParticipantView(
        user=row["user_id"],
        name=rows.person_name(row, "person"),
        role=Role(row["role"]),
        joined_at=row["joined_at"],
        paid_amount=from_kopecks(row["paid_kopecks"] or 0),
        donations_count=row["donations_count"] or 0,
        last_payment_at=row["last_payment_at"],
        last_reminded_at=row["last_reminded_at"],
    )


class SqlPaymentQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of_payer(self, payer_id: int, page: PageRequest) -> Page[PaymentView]:
        p = payments.c
        with reading(self._engine) as db:
            count = select(func.count()).select_from(payments).where(p.payer_id == payer_id)
            total = db.execute(count).scalar_one()
            items: list[PaymentView] = []
            if page.reaches(total) and total:
                query = (
                    select(payments)
                    .where(p.payer_id == payer_id)
                    .order_by(p.payment_date.desc(), p.id.desc())
                    .limit(page.size)
                    .offset(page.offset)
                )
                items = [
                    PaymentView.of(rows.payment_of(row)) for row in db.execute(query).mappings()
                ]
        return Page(items, total, page.number, page.size)


def _actual_totals() -> Any:
    p = payments.c
    return (
        select(
            p.collect_id,
            func.sum(p.amount_kopecks, type_=BigInteger).label("collected"),
            func.count().label("donations"),
            func.count(distinct(p.payer_id)).label("donors"),
        )
        .where(p.status == COMPLETED)
        .group_by(p.collect_id)
        .subquery("actual")
    )


class SqlTotalsAudit:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def drifts(self) -> Sequence[Drift]:
        c = collects.c
        actual = _actual_totals()
        collected = func.coalesce(actual.c.collected, 0)
        donations = func.coalesce(actual.c.donations, 0)
        donors = func.coalesce(actual.c.donors, 0)
        query = (
            select(
                c.id,
                c.collected_kopecks,
                c.donations_count,
                c.donors_count,
                collected.label("actual_collected"),
                donations.label("actual_donations"),
                donors.label("actual_donors"),
            )
            .select_from(collects.outerjoin(actual, actual.c.collect_id == c.id))
            .where(
                or_(
                    c.collected_kopecks != collected,
                    c.donations_count != donations,
                    c.donors_count != donors,
                )
            )
            .order_by(c.id)
        )
        with reading(self._engine) as db:
            found = db.execute(query).mappings().all()
        return [
            Drift(
                collect_id=row["id"],
                stored=Totals(
                    row["collected_kopecks"], row["donations_count"], row["donors_count"]
                ),
                actual=Totals(
                    from_kopecks(row["actual_collected"]),
                    int(row["actual_donations"]),
                    int(row["actual_donors"]),
                ),
            )
            for row in found
        ]
