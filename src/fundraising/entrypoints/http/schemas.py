"""Request and response shapes of the contract, as msgspec Structs (never entities)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from fundraising.application.representations import collect_fields, payment_fields
from fundraising.application.use_cases.webhooks import CreatedWebhook
from fundraising.application.views import (
    CollectDetail,
    CollectView,
    DeliveryView,
    FeedEntry,
    ParticipantView,
    PaymentView,
    UpdateView,
    UserView,
    WebhookView,
)
from fundraising.domain.collect import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    CollectStatus,
    CoverStatus,
    Occasion,
)
from fundraising.domain.ids import MAX_ID
from fundraising.domain.membership import SHARE_KEY_MAX, Role, Visibility
from fundraising.domain.passwords import MAX_LENGTH as PASSWORD_MAX
from fundraising.domain.passwords import MIN_LENGTH as PASSWORD_MIN
from fundraising.domain.payment import (
    COMMENT_MAX,
    TRANSACTION_ID_MAX,
    DonationVisibility,
    PaymentStatus,
)
from fundraising.domain.update import UPDATE_TEXT_MAX
from fundraising.domain.user import EMAIL_MAX, NAME_MAX, USERNAME_MAX
from fundraising.domain.webhook import URL_MAX, DeliveryStatus, EventType
from fundraising.entrypoints.http.fields import (
    Amount,
    CoverFile,
    DonationAmount,
    JsonObject,
    Timestamp,
)

T = TypeVar("T")

# --- requests (documented from these Structs; converted field by field, see bodies.py) ---

# A character `str.strip()` keeps, spelt out: `\S` means other things in other regex engines
# (JavaScript's and Rust's keep U+001C–U+001F, which Python strips).
NOT_BLANK = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Title = Annotated[
    str,
    Meta(min_length=1, max_length=TITLE_MAX, pattern=NOT_BLANK, examples=["Подарок Ивану"]),
]
Description = Annotated[str, Meta(max_length=DESCRIPTION_MAX)]
TransactionId = Annotated[
    str,
    Meta(
        pattern=rf"^[\x21-\x7e]{{1,{TRANSACTION_ID_MAX}}}$",
        description="Printable ASCII without spaces; unique, and the idempotency key.",
        examples=["sber_6f1c2a9e"],
    ),
]


def _any_case(word: str) -> str:
    return "".join(f"[{char}{char.upper()}]" for char in word)


# email-validator refuses the domains that can never receive mail (RFC 6761's `.test`,
# `localhost`…), which `format: email` allows: the pattern says so.
_SPECIAL_USE = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
Email = Annotated[
    str,
    Meta(
        max_length=EMAIL_MAX,
        pattern=rf"^(?!.*[@.]({_SPECIAL_USE})$)",
        description="Not at a special-use domain (.test, .invalid, localhost…).",
        examples=["ivan@example.com"],
        extra_json_schema={"format": "email"},
    ),
]
Password = Annotated[str, Meta(examples=["correct horse battery"])]
NewPassword = Annotated[
    str,
    Meta(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        pattern=r"\D",
        description="Not only digits, not a common password, not like the username or e-mail.",
        examples=["correct horse battery"],
    ),
]


class UserRegistration(Struct, kw_only=True):
    username: Annotated[
        str, Meta(min_length=1, max_length=USERNAME_MAX, pattern=r"^[\w.@+-]+$", examples=["ivan"])
    ]
    email: Email
    password: NewPassword
    first_name: Annotated[str, Meta(max_length=NAME_MAX)] = ""
    last_name: Annotated[str, Meta(max_length=NAME_MAX)] = ""


class Credentials(Struct):
    username: str
    password: str


class RefreshRequest(Struct):
    refresh: str


class VerifyRequest(Struct):
    token: str


AccountTokenField = Annotated[str, Meta(max_length=200, description="From the e-mailed link.")]
Uid = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="From the e-mailed link.")]


class ActivationRequest(Struct):
    uid: Uid
    token: AccountTokenField


class EmailRequest(Struct):
    email: Email


class PasswordChangeRequest(Struct):
    current_password: Password
    new_password: NewPassword


class PasswordResetConfirmRequest(Struct):
    uid: Uid
    token: AccountTokenField
    new_password: NewPassword


class ProfileChangeRequest(Struct, kw_only=True):
    first_name: Annotated[str, Meta(max_length=NAME_MAX)] | UnsetType = UNSET
    last_name: Annotated[str, Meta(max_length=NAME_MAX)] | UnsetType = UNSET
    email: Email | UnsetType = UNSET


class AccountDeletionRequest(Struct):
    current_password: Password


UserId = Annotated[int, Meta(ge=1, le=MAX_ID)]
HiddenFrom = Annotated[
    list[UserId],
    Meta(description="Users who may never see the collect (link and private only; at most 50)."),
]


class _CollectCreateFields(Struct, kw_only=True):
    title: Title
    occasion: Occasion = Occasion.OTHER
    description: Description = ""
    goal_amount: Amount | None = None
    end_date: Timestamp | None = None
    visibility: Visibility = Visibility.PUBLIC
    suggested_amount: DonationAmount | None = None


class CollectCreate(_CollectCreateFields, kw_only=True):
    hidden_from: HiddenFrom = []


class CollectCreateForm(_CollectCreateFields, kw_only=True):
    cover: CoverFile | UnsetType = UNSET


class _CollectChanges(Struct, kw_only=True):
    title: Title | UnsetType = UNSET
    occasion: Occasion | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    goal_amount: Amount | UnsetType | None = UNSET
    end_date: Timestamp | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    visibility: Visibility | UnsetType = UNSET
    suggested_amount: DonationAmount | UnsetType | None = UNSET


class CollectUpdate(_CollectChanges, kw_only=True):
    hidden_from: HiddenFrom | UnsetType = UNSET
    cover: UnsetType | None = UNSET


class CollectUpdateForm(_CollectChanges, kw_only=True):
    cover: CoverFile | UnsetType = UNSET


class PaymentCreate(Struct, kw_only=True):
    collect: Annotated[int, Meta(ge=1, le=MAX_ID)]
    amount: DonationAmount
    transaction_id: TransactionId
    visibility: DonationVisibility = DonationVisibility.PUBLIC
    is_anonymous: (
        Annotated[bool, Meta(description='true means "visibility": "anonymous".')] | UnsetType
    ) = UNSET
    comment: Annotated[str, Meta(max_length=COMMENT_MAX, description="A wish.")] | None = None
    metadata: JsonObject | None = None


class WebhookCreate(Struct, kw_only=True):
    url: Annotated[
        str,
        Meta(
            max_length=URL_MAX,
            pattern=r"^https?://",
            description="Where events are POSTed: https:// in production, never a loopback, "
            "private, link-local or reserved address. A URI (ASCII, RFC 3986), no fragment.",
            examples=["https://hooks.example.com/fundraising"],
            extra_json_schema={"format": "uri"},
        ),
    ]
    events: Annotated[list[EventType], Meta(min_length=1, description="A repeat counts once.")]
    collect: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=MAX_ID,
                description="One collect you author or organise; none: all of them.",
            ),
        ]
        | None
    ) = None


class JoinRequest(Struct, kw_only=True):
    key: (
        Annotated[str, Meta(max_length=SHARE_KEY_MAX, description="A link collect's share key.")]
        | None
    ) = None


class InvitationRequest(Struct, kw_only=True):
    """A registered user to invite: by id or by e-mail, one of the two."""

    user: UserId | None = None
    email: Email | None = None


class RefundRequest(Struct, kw_only=True):
    reason: Annotated[str, Meta(max_length=COMMENT_MAX)] | None = None


class UpdateCreate(Struct, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=UPDATE_TEXT_MAX, pattern=NOT_BLANK)]
    notify: Annotated[
        bool, Meta(description="E-mail it to every participant who paid (default true).")
    ] = True


class OrganiserRequest(Struct, kw_only=True):
    user: Annotated[UserId, Meta(description="A member of the collect.")]


REQUEST_SCHEMAS: tuple[type[Struct], ...] = (
    UserRegistration,
    ActivationRequest,
    EmailRequest,
    PasswordChangeRequest,
    PasswordResetConfirmRequest,
    ProfileChangeRequest,
    AccountDeletionRequest,
    Credentials,
    RefreshRequest,
    VerifyRequest,
    CollectCreate,
    CollectCreateForm,
    CollectUpdate,
    CollectUpdateForm,
    PaymentCreate,
    JoinRequest,
    InvitationRequest,
    OrganiserRequest,
    RefundRequest,
    UpdateCreate,
    WebhookCreate,
)

# --- responses ---

Decimal2 = Annotated[str, Meta(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["150.00"])]


class Participant(Struct):
    user: int
    name: str
    role: Role
    joined_at: datetime
    paid_amount: Decimal2
    donations_count: int
    last_payment_at: datetime | None
    last_reminded_at: datetime | None


class ShareKey(Struct):
    key: str
    url: str


class Update(Struct):
    id: int
    text: str
    author_name: str
    created_at: datetime


class RemindersSent(Struct):
    reminded: Annotated[int, Meta(description="Members e-mailed now.")]
    skipped: Annotated[int, Meta(description="Members reminded within the interval already.")]


class User(Struct):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    email_verified: bool


class TokenPair(Struct):
    access: str
    refresh: str


class Empty(Struct):
    pass


class Collect(Struct):
    id: int
    title: str
    occasion: Occasion
    description: str
    goal_amount: Decimal2 | None
    collected_amount: Decimal2
    donors_count: int
    donations_count: int
    progress: float | None
    start_date: datetime
    end_date: datetime | None
    is_active: bool
    status: CollectStatus
    created_by: int
    author_name: str
    cover_url: str | None
    cover_status: CoverStatus
    created_at: datetime
    updated_at: datetime
    visibility: Visibility
    hidden_from: list[int]
    suggested_amount: Decimal2 | None
    participants_count: int


class FeedItem(Struct):
    amount: Decimal2 | None  # null: the donor hid it
    payment_date: datetime
    donor_name: str
    comment: str | None


class CollectDetailed(Collect):
    payments: list[FeedItem]


class Payment(Struct):
    id: int
    collect: int
    amount: Decimal2
    status: PaymentStatus
    transaction_id: str
    payment_date: datetime
    visibility: DonationVisibility
    is_anonymous: bool
    comment: str | None
    metadata: dict[str, Any] | None
    refunded_at: datetime | None


class Webhook(Struct):
    id: int
    url: str
    events: list[EventType]
    collect: int | None
    created_at: datetime


class WebhookCreated(Webhook):
    secret: Annotated[
        str,
        Meta(description="The signing secret (whsec_ and a base64 key): shown this once only."),
    ]


class Delivery(Struct):
    id: int
    event_id: Annotated[str, Meta(description="The event's id: its webhook-id header.")]
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_attempt_at: datetime | None


class Page(Struct, Generic[T]):
    """One page of a list, in Django REST framework's shape."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


def _named(page: Any, name: str) -> Any:
    """A page type under its own name in the OpenAPI document."""
    return Annotated[page, KwargDefinition(schema_component_key=name)]


CollectPage = _named(Page[Collect], "CollectPage")
FeedPage = _named(Page[FeedItem], "FeedPage")
PaymentPage = _named(Page[Payment], "PaymentPage")
ParticipantPage = _named(Page[Participant], "ParticipantPage")
UpdatePage = _named(Page[Update], "UpdatePage")
WebhookPage = _named(Page[Webhook], "WebhookPage")
DeliveryPage = _named(Page[Delivery], "DeliveryPage")


class Health(Struct):
    status: str
    checks: dict[str, str]


def user(view: UserView) -> User:
    return User(
        view.id, view.username, view.email, view.first_name, view.last_name, view.email_verified
    )


def collect(view: CollectView, media_url: str, now: datetime) -> Collect:
    return Collect(**collect_fields(view, media_url, now))


def feed_item(entry: FeedEntry) -> FeedItem:
    amount = None if entry.amount is None else str(entry.amount)
    return FeedItem(amount, entry.payment_date, entry.donor_name, entry.comment)


def collect_detail(detail: CollectDetail, media_url: str, now: datetime) -> CollectDetailed:
    return CollectDetailed(
        **collect_fields(detail.collect, media_url, now),
        payments=[feed_item(entry) for entry in detail.payments],
    )


def participant(view: ParticipantView) -> Participant:
    return Participant(
        user=view.user,
        name=view.name,
        role=view.role,
        joined_at=view.joined_at,
        paid_amount=str(view.paid_amount),
        donations_count=view.donations_count,
        last_payment_at=view.last_payment_at,
        last_reminded_at=view.last_reminded_at,
    )


def payment(view: PaymentView) -> Payment:
    return Payment(**payment_fields(view))


def webhook(view: WebhookView) -> Webhook:
    return Webhook(view.id, view.url, list(view.events), view.collect, view.created_at)


def created_webhook(created: CreatedWebhook) -> WebhookCreated:
    view = created.webhook
    return WebhookCreated(
        view.id, view.url, list(view.events), view.collect, view.created_at, created.secret
    )


def delivery(view: DeliveryView) -> Delivery:
    return Delivery(
        view.id,
        view.event_id,
        view.event_type,
        view.status,
        view.attempts,
        view.last_status_code,
        view.last_attempt_at,
    )


def update(view: UpdateView) -> Update:
    return Update(view.id, view.text, view.author_name, view.created_at)


encode = msgspec.json.Encoder().encode
