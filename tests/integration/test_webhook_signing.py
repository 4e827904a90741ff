"""Webhook signatures per Standard Webhooks: a receiver using the reference library verifies
them, a changed body, id, timestamp or secret does not verify, and the HMAC is the
specification's, computed here without the library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import standardwebhooks
from standardwebhooks import WebhookVerificationError

from fundraising.adapters.webhooks.signing import StandardWebhooksSigner
from fundraising.domain.webhook import SECRET_BYTES, SECRET_PREFIX, new_event_id, new_secret

BODY = '{"id":"evt_1","type":"payment.created","data":{"title":"Подарок «Марии»"}}'.encode()


def _headers(message_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def _signed(secret: str, body: bytes = BODY) -> tuple[str, int, str]:
    message_id, timestamp = new_event_id(), int(time.time())
    signature = StandardWebhooksSigner().sign(secret, message_id, timestamp, body)
    return message_id, timestamp, signature


def test_a_fresh_secret_is_a_standard_webhooks_key():
    first, second = new_secret(), new_secret()

    assert first.startswith(SECRET_PREFIX) and second.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX), validate=True)) == SECRET_BYTES
    assert first != second


def test_the_reference_library_verifies_the_signature():
    secret = new_secret()
    message_id, timestamp, signature = _signed(secret)

    verified = standardwebhooks.Webhook(secret).verify(
        BODY, _headers(message_id, timestamp, signature)
    )

    assert verified["data"]["title"] == "Подарок «Марии»"


def test_the_signature_is_the_specifications_hmac():
    """`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the decoded key."""
    secret = new_secret()
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    timestamp = 1_796_400_000  # a given moment is signed as given, not the current time

    signature = StandardWebhooksSigner().sign(secret, "evt_1", timestamp, BODY)

    digest = hmac.new(key, b"evt_1.1796400000." + BODY, hashlib.sha256).digest()
    assert signature == "v1," + base64.b64encode(digest).decode()


@pytest.mark.parametrize(
    "change",
    ["body", "body_whitespace", "message_id", "timestamp", "secret"],
)
def test_a_changed_message_does_not_verify(change: str):
    secret = new_secret()
    message_id, timestamp, signature = _signed(secret)
    body, verifier = BODY, standardwebhooks.Webhook(secret)
    if change == "body":
        body = BODY.replace("Марии".encode(), "Марины".encode())
    elif change == "body_whitespace":
        body = BODY + b"\n"
    elif change == "message_id":
        message_id = new_event_id()
    elif change == "timestamp":
        timestamp += 1
    else:
        verifier = standardwebhooks.Webhook(new_secret())

    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, _headers(message_id, timestamp, signature))
