"""/api/v1/collects/{id}/export/: every payment of a collect as CSV, for those who run it,
streamed in constant memory whatever the number of payments."""

from __future__ import annotations

from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.response import Stream

from fundraising.application.use_cases.payments import ExportPayments
from fundraising.entrypoints.http.csv_export import HEADER, csv_chunks
from fundraising.entrypoints.http.dependencies import AUTHENTICATED, SECURED, Injected, existing_id
from fundraising.entrypoints.http.openapi import problems
from fundraising.entrypoints.http.routes.collects import CollectId
from fundraising.entrypoints.http.threads import in_thread

CSV = "text/csv; charset=utf-8"


class ExportController(Controller):
    path = "/api/v1/collects"
    tags = ("payments",)
    security = SECURED
    dependencies = AUTHENTICATED

    @get(
        "/{collect_id:int}/export/",
        summary="Every completed and refunded payment as CSV, oldest first (author, organisers)",
        media_type=CSV,
        responses={
            200: ResponseSpec(
                str,
                description=f"UTF-8 CSV with a BOM; header: {','.join(HEADER)}.",
                media_type=CSV,
                generate_examples=False,
            ),
            **problems(401, 403, 404),
        },
    )
    async def export_payments(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        export_payments: Injected[ExportPayments],
    ) -> Stream:
        existing_id(collect_id, "collect")
        exported = await in_thread(export_payments, collect_id, user_id)
        return Stream(
            csv_chunks(exported),
            media_type=CSV,
            headers={
                "Content-Disposition": f'attachment; filename="collect-{collect_id}-payments.csv"'
            },
        )
