"""A collect's payments as CSV for spreadsheets: UTF-8 with a BOM (Excel then reads Cyrillic),
one row per payment, written in chunks as the rows are read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from fundraising.application.views import ExportedPayment

BOM = "\ufeff"
HEADER = (
    "id",
    "payment_date",
    "status",
    "amount",
    "donor_username",
    "donor_name",
    "visibility",
    "comment",
    "transaction_id",
)
ROWS_PER_CHUNK = 1_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a `'` first."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _cells(payment: ExportedPayment) -> list[str]:
    return [
        str(payment.id),
        payment.payment_date.isoformat().replace("+00:00", "Z"),
        payment.status.value,
        str(payment.amount),
        safe_cell(payment.donor_username),
        safe_cell(payment.donor_name),
        payment.visibility.value,
        safe_cell(payment.comment or ""),
        safe_cell(payment.transaction_id),
    ]


def csv_chunks(payments: Iterable[ExportedPayment]) -> Iterator[bytes]:
    """The header, then the rows, `ROWS_PER_CHUNK` at a time, encoded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(HEADER)
    for number, payment in enumerate(payments, start=1):
        writer.writerow(_cells(payment))
        if number % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
