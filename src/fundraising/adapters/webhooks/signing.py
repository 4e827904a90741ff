"""Signatures per the Standard Webhooks specification, made by its reference library."""

from __future__ import annotations

from datetime import UTC, datetime

import standardwebhooks


class StandardWebhooksSigner:
    def sign(self, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
        """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
        moment = datetime.fromtimestamp(timestamp, UTC)
        return standardwebhooks.Webhook(secret).sign(message_id, moment, body)
