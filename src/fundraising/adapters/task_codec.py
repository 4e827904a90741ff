"""Tasks as plain JSON-able dicts, for the outbox table and the broker's messages."""

from __future__ import annotations

from typing import Any

from fundraising.application.ports.tasks import (
    AnnounceUpdate,
    DeliverWebhook,
    EmailKind,
    ProcessCover,
    RefundCollect,
    SendEmail,
    Task,
)


def encode_task(task: Task) -> dict[str, Any]:
    if isinstance(task, SendEmail):
        encoded: dict[str, Any] = {
            "type": "send_email",
            "kind": task.kind.value,
            "subject_id": task.subject_id,
        }
        if task.recipient_id is not None:
            encoded["recipient_id"] = task.recipient_id
        return encoded
    if isinstance(task, RefundCollect):
        return {"type": "refund_collect", "collect_id": task.collect_id}
    if isinstance(task, AnnounceUpdate):
        return {"type": "announce_update", "update_id": task.update_id}
    if isinstance(task, DeliverWebhook):
        return {"type": "deliver_webhook", "delivery_id": task.delivery_id}
    return {"type": "process_cover", "collect_id": task.collect_id, "source": task.source}


def decode_task(data: dict[str, Any]) -> Task:
    if data["type"] == "send_email":
        recipient = data.get("recipient_id")
        return SendEmail(
            EmailKind(data["kind"]),
            int(data["subject_id"]),
            None if recipient is None else int(recipient),
        )
    if data["type"] == "process_cover":
        return ProcessCover(int(data["collect_id"]), str(data["source"]))
    if data["type"] == "refund_collect":
        return RefundCollect(int(data["collect_id"]))
    if data["type"] == "announce_update":
        return AnnounceUpdate(int(data["update_id"]))
    if data["type"] == "deliver_webhook":
        return DeliverWebhook(int(data["delivery_id"]))
    raise ValueError(f"unknown task type {data['type']!r}")
