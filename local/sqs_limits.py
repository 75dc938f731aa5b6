"""Makes the embedded SQS (moto) refuse and drop what Amazon SQS refuses and drops.

moto is kinder than SQS in three ways the delivery worker depends on; `enforce()` patches
each (process-wide, idempotent), and tests/delivery/test_sqs_limits.py proves every patch
catches its case:

- Visibility: SQS refuses a ChangeMessageVisibility that would keep a message hidden more
  than 12 hours after the receive it belongs to ("Total VisibilityTimeout for the message is
  beyond the limit [43200 seconds]"); so a consumer, which calls some time after the receive,
  cannot ask for the full 43,200 s. moto measures from the *send*, so it refuses a legal hide
  of a message sent long ago and received again.
- Retention: SQS deletes a message once it is older than the queue's
  MessageRetentionPeriod; an expired message is never received again nor redriven to the
  DLQ. moto keeps it, counts receives on it, and finally redrives it.
- Body characters: SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
  #x10000-#x10FFFF in a message body and refuses others with InvalidMessageContents.
  moto accepts anything. (Whether SendMessageBatch refuses the whole request or only the
  entry is not documented; here the whole request is refused, the stricter reading.)

maxReceiveCount redrive needs no patch: moto moves a message to the DLQ on the receive
after its count reached maxReceiveCount, as SQS does (tested all the same).
"""

from __future__ import annotations

import re

MAX_VISIBILITY_S = 12 * 3600
INVALID_BODY_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""One character SQS refuses in a message body (the complement of SQS's documented set)."""

_enforced = False


def enforce() -> None:
    global _enforced
    if _enforced:
        return
    from moto.sqs import models
    from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid, SQSException

    class InvalidMessageContents(SQSException):
        def __init__(self, character: str) -> None:
            super().__init__(
                "InvalidMessageContents",
                f"Invalid binary character '#x{ord(character):X}' was found in the message body, the set of allowed "
                "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            )

    def now_ms() -> float:
        return models.unix_time_millis()  # looked up on each call, so a test can move moto's clock

    mark_received = models.Message.mark_received

    def mark_received_at(self, visibility_timeout=None) -> None:
        mark_received(self, visibility_timeout)
        self.last_received_ms = now_ms()

    def change_message_visibility(self, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        queue = self.get_queue(queue_name)
        for message in queue._messages:
            if message.had_receipt_handle(receipt_handle):
                received_ms = getattr(message, "last_received_ms", message.sent_timestamp)
                if now_ms() + int(visibility_timeout) * 1000 - received_ms > MAX_VISIBILITY_S * 1000:
                    raise InvalidParameterValue(
                        f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                        f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY_S} seconds]"
                    )
                message.change_visibility(visibility_timeout)
                if message.visible and message in queue.pending_messages:
                    queue.pending_messages.remove(message)
                return
        raise ReceiptHandleIsInvalid

    def drop_expired(backend, queue_name: str) -> None:
        queue = backend.get_queue(queue_name)
        oldest_kept_ms = now_ms() - int(queue.message_retention_period) * 1000
        expired = [m for m in queue._messages if m.sent_timestamp is not None and m.sent_timestamp <= oldest_kept_ms]
        for message in expired:
            queue._messages.remove(message)
            queue.pending_messages.discard(message)

    receive_message = models.SQSBackend.receive_message
    get_queue_attributes = models.SQSBackend.get_queue_attributes
    validate_message = models.SQSBackend._validate_message

    def receive_unexpired(self, queue_name: str, *args, **kwargs):
        drop_expired(self, queue_name)
        return receive_message(self, queue_name, *args, **kwargs)

    def attributes_of_unexpired(self, queue_name: str, *args, **kwargs):
        drop_expired(self, queue_name)
        return get_queue_attributes(self, queue_name, *args, **kwargs)

    def validate_characters(self, queue, message_body: str, *args, **kwargs) -> None:
        invalid = INVALID_BODY_CHARACTER.search(message_body)
        if invalid:
            raise InvalidMessageContents(invalid.group())
        validate_message(self, queue, message_body, *args, **kwargs)

    models.Message.mark_received = mark_received_at  # type: ignore[method-assign]
    models.SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    models.SQSBackend.receive_message = receive_unexpired  # type: ignore[method-assign]
    models.SQSBackend.get_queue_attributes = attributes_of_unexpired  # type: ignore[method-assign]
    models.SQSBackend._validate_message = validate_characters  # type: ignore[method-assign]
    _enforced = True
