"""/api/v1/payments/: donate (idempotent by transaction id), my payments, one payment, and a
refund."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.use_cases.payments import (
    Donate,
    Donation,
    GetPayment,
    ListMyPayments,
    PaymentLookup,
    Refund,
    RefundPayment,
)
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import json_object, optional_json_object, read_fields
from fundraising.entrypoints.http.dependencies import AUTHENTICATED, SECURED, Injected, existing_id
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import page_of, page_request
from fundraising.entrypoints.http.routes.collects import PageSize
from fundraising.entrypoints.http.threads import in_thread

REPLAYED = "Idempotent-Replayed"
PaymentId = Annotated[int, Parameter(description="A payment id.")]


class PaymentController(Controller):
    path = "/api/v1/payments"
    tags = ("payments",)
    security = SECURED
    dependencies = AUTHENTICATED

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Donate to a collect",
        description=(
            "`transaction_id` is the idempotency key: the same user sending the same "
            "transaction_id, collect and amount again gets 200 with the original payment and "
            "`Idempotent-Replayed: true`; any other reuse is a 409."
        ),
        operation_class=body(schemas.PaymentCreate),
        responses={
            HTTP_200_OK: ResponseSpec(
                schemas.Payment,
                description="An idempotent retry: the original payment.",
                generate_examples=False,
            ),
            **problems(400, 401, 409, 413, 415),
        },
    )
    async def donate(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        donate: Injected[Donate],
    ) -> Response[schemas.Payment]:
        fields = read_fields(await json_object(request), schemas.PaymentCreate)
        donation = Donation(
            payer_id=user_id,
            collect_id=fields.get("collect", None),
            amount=fields.get("amount", None),
            transaction_id=fields.get("transaction_id", None),
            is_anonymous=fields.get("is_anonymous", None),
            visibility=fields.get("visibility", None),
            comment=fields.get("comment", None),
            metadata=fields.get("metadata", None),
            conversion_errors=fields.errors,
        )
        result = await in_thread(donate, donation)
        if result.replayed:
            return Response(
                schemas.payment(result.payment),
                status_code=HTTP_200_OK,
                headers={REPLAYED: "true"},
            )
        return Response(schemas.payment(result.payment), status_code=HTTP_201_CREATED)

    @get("/", summary="My payments, newest first", responses=problems(400, 401, 404))
    async def my_payments(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        my_payments: Injected[ListMyPayments],
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.PaymentPage:
        found = await in_thread(my_payments, user_id, page_request(request, page, page_size))
        return page_of(request, found, schemas.payment)

    @get(
        "/{payment_id:int}/",
        summary="One payment (its payer, the collect's author and organisers)",
        responses=problems(401, 404),
    )
    async def get_payment(
        self,
        user_id: Injected[int],
        payment_id: PaymentId,
        get_payment: Injected[GetPayment],
    ) -> schemas.Payment:
        existing_id(payment_id, "payment")
        return schemas.payment(await in_thread(get_payment, PaymentLookup(payment_id, user_id)))

    @post(
        "/{payment_id:int}/refund/",
        status_code=HTTP_200_OK,
        summary="Refund a payment (the collect's author and organisers); again: no change",
        operation_class=body(schemas.RefundRequest, required=False),
        responses=problems(400, 401, 404, 409, 413, 415),
    )
    async def refund_payment(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        payment_id: PaymentId,
        refund_payment: Injected[RefundPayment],
    ) -> schemas.Payment:
        existing_id(payment_id, "payment")
        fields = read_fields(await optional_json_object(request), schemas.RefundRequest)
        refund = Refund(
            payment_id, user_id, fields.get("reason", None), conversion_errors=fields.errors
        )
        return schemas.payment(await in_thread(refund_payment, refund))
