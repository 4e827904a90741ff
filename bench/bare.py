"""The read ceiling: a bare Litestar JSON handler, served like the service (uvicorn, 2 workers).

It returns a body of the size of a collect detail, with no auth, cache or database.
"""

from __future__ import annotations

from litestar import Litestar, Response, get

BODY = (
    b'{"id":1,"title":"'
    + "Подарок".encode() * 20
    + b'","payments":['
    + b",".join(
        b'{"amount":"150.00","payment_date":"2026-11-26T15:04:05Z","donor_name":"x"}'
        for _ in range(20)
    )
    + b"]}"
)


@get("/bare")
async def bare() -> Response[bytes]:
    return Response(BODY, media_type="application/json")


app = Litestar([bare], logging_config=None)
