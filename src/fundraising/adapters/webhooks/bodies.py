"""An event as its receivers get it: `{"id", "type", "timestamp", "data"}` in JSON, encoded
the way the API encodes its answers (msgspec), so that `data` reads the same in both."""

from __future__ import annotations

import msgspec

from fundraising.domain.webhook import Event

_encode = msgspec.json.Encoder(decimal_format="string").encode


def event_body(event: Event) -> bytes:
    return _encode(
        {"id": event.id, "type": event.type, "timestamp": event.occurred_at, "data": event.data}
    )
