"""What a stream function does with a record it cannot process: retry it, or set it aside for replay.

The dispatcher and the aggregator process their batch record by record, in stream order
(docs/stream-failures.md). A failure that any record would meet (throttling, an AWS service
unavailable) is transient: the function stops there and reports that record to Lambda, which
retries from it (ReportBatchItemFailures). Any other failure belongs to the record: the function
sets it aside at once into its own failure queue and goes on with the next one, so one bad record
never holds up its shard.

What is set aside is the stream record itself, as Lambda delivered it (keys, images, sequence
number), with the error: enough to replay it after the stream (24 h) and the event's dedupe
record have expired. Replaying runs it through the same code path again (`replay`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from hub.delivery import queue
from hub.platform import catalog, clock, ddb, settings
from hub.platform import stream_reader as streams
from hub.platform.exceptions import NoLongerHeld

RecordHandler = Callable[["Change"], Any]
"""Processes one record, raising on failure."""
Logging = Callable[[str, "Change", BaseException], None]
"""Logs what happened to a record: (message, record, error)."""

MAX_BODY_BYTES = 256 * 1024
"""SQS's largest message body."""


class Transient(Exception):
    """A failure any record would meet now (an AWS service refusing for a while): retry, don't set aside."""


def is_transient(error: BaseException) -> bool:
    """A failure no record is to blame for (hub.platform.ddb.is_transient): the record is retried, never set aside."""
    return isinstance(error, Transient) or ddb.is_transient(error)


@dataclass(frozen=True)
class Change:
    """One stream record: the raw record Lambda delivered and its images as plain values."""

    record: dict[str, Any]
    table_id: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    @classmethod
    def of(cls, record: dict[str, Any]) -> Change:
        change = record.get("dynamodb", {})
        return cls(
            record=record,
            table_id=ddb.table_id_of_stream(record["eventSourceARN"]),
            old=_image(change.get("OldImage")),
            new=_image(change.get("NewImage")),
        )

    @property
    def event_id(self) -> str:
        """Lambda's eventID: unique to this stream record, the same in every retry of it."""
        return self.record["eventID"]

    @property
    def sequence_number(self) -> str:
        return self.record["dynamodb"]["SequenceNumber"]


def _image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    return ddb.from_item(image) if image else None


class SetAside(BaseModel):
    """A failure queue message: one stream record the function could not process, whole."""

    function: str
    reason: str
    setAsideAt: str
    record: dict[str, Any] | None = None
    """The stream record as Lambda delivered it; None when it was too large for SQS (see `keys`)."""
    keys: dict[str, Any] | None = None
    """The changed item's key, always kept: for a record too large to carry, it names the item."""
    webhookIds: list[str] | None = None
    """The dispatcher's deliveries of the record that were not queued; None: all of them."""


def reason_of(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def body_of(aside: SetAside) -> str:
    """JSON with every non-ASCII character escaped: SQS accepts any such body, whatever the images hold."""
    body = json.dumps(aside.model_dump(mode="json", exclude_none=True), ensure_ascii=True, separators=(",", ":"))
    if len(body) > MAX_BODY_BYTES:
        return body_of(aside.model_copy(update={"record": None}))
    return body


def set_aside(
    failures: catalog.FailureQueue, change: Change, error: BaseException, webhook_ids: list[str] | None = None
) -> None:
    aside = SetAside(
        function=failures.function,
        reason=reason_of(error),
        setAsideAt=clock.iso(datetime.now(UTC)),
        record=change.record,
        keys=change.record.get("dynamodb", {}).get("Keys"),
        webhookIds=webhook_ids,
    )
    queue.send(settings.env(failures.env_var), body_of(aside))


@dataclass
class Outcome:
    """What a batch came to: the records set aside and where Lambda must retry from (None: all done)."""

    set_aside: int = 0
    retry_from: str | None = None

    def response(self) -> dict[str, Any]:
        """The partial batch response: the record to retry from, or none."""
        return {"batchItemFailures": [{"itemIdentifier": self.retry_from}] if self.retry_from else []}


def process_in_order(
    changes: list[Change], process: RecordHandler, failures: catalog.FailureQueue, log: Logging
) -> Outcome:
    """Runs `process` on each record in stream order: a record-specific failure is set aside and the batch goes
    on; a transient one (or a set-aside that fails) stops the batch there, for Lambda to retry from it."""
    outcome = Outcome()
    for change in changes:
        try:
            process(change)
        except Exception as error:  # noqa: BLE001 - sorted into transient (retry) or the record's own (set aside)
            if is_transient(error):
                log("transient failure: retrying from this record", change, error)
                outcome.retry_from = change.sequence_number
                return outcome
            try:
                set_aside(failures, change, error, getattr(error, "webhook_ids", None))
            except Exception as queue_error:  # noqa: BLE001 - the failure queue refused: retry the record later
                log("could not set the record aside: retrying from it", change, queue_error)
                outcome.retry_from = change.sequence_number
                return outcome
            log("record set aside", change, error)
            outcome.set_aside += 1
    return outcome


@dataclass
class ReplayReport:
    replayed: int = 0
    failed: list[dict[str, str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "failed": self.failed or []}


def replay(
    failures: catalog.FailureQueue,
    process: Callable[[Change, SetAside], Any],
    max_messages: int,
    process_range: Callable[[list[Change]], Any],
) -> ReplayReport:
    """Takes up to `max_messages` from the failure queue and runs each set-aside record through `process` again.

    Lambda's on-failure record (a batch it gave up on: shard and sequence range only) is replayed from the
    stream through `process_range` while the stream still holds the records (24 h). A message whose records
    are processed is deleted; one that fails again stays, visible again after the queue's visibility timeout,
    and is listed with the reason.
    """
    url = settings.env(failures.env_var)
    failed: list[dict[str, str]] = []
    report = ReplayReport(failed=failed)
    seen = 0
    while seen < max_messages:
        messages = (
            queue.client()
            .receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, max_messages - seen),
                WaitTimeSeconds=0,
            )
            .get("Messages", [])
        )
        if not messages:
            break
        for message in messages:
            seen += 1
            try:
                _replay_one(json.loads(message["Body"]), process, process_range)
            except Exception as error:  # noqa: BLE001 - reported, the message stays for another replay
                failed.append({"messageId": message["MessageId"], "reason": reason_of(error)})
                continue
            queue.client().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
    return report


def _replay_one(
    body: dict[str, Any], process: Callable[[Change, SetAside], Any], process_range: Callable[[list[Change]], Any]
) -> None:
    if "DDBStreamBatchInfo" in body:
        info = body["DDBStreamBatchInfo"]
        try:
            records = streams.read_range(
                info["streamArn"], info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]
            )
        except NoLongerHeld as error:  # TrimmedDataAccessException, ResourceNotFoundException, ...
            records, cause = [], error.message
        else:
            cause = "not found"
        if not records or records[0]["dynamodb"]["SequenceNumber"] != info["startSequenceNumber"]:
            raise ValueError(
                f"Lambda's on-failure record, and the stream no longer holds its records ({cause}): {json.dumps(info)}"
            )
        process_range([Change.of(record) for record in records])
        return
    aside = SetAside.model_validate(body)
    if aside.record is None:
        raise ValueError(f"no record to replay (too large to carry; the item's key: {aside.keys})")
    process(Change.of(aside.record), aside)


def replay_request(event: dict[str, Any]) -> int | None:
    """For an invocation `{"replay": {"maxMessages": n}}` (docs/stream-failures.md), n (default 100); else None."""
    request = event.get("replay") if isinstance(event, dict) else None
    if request is None:
        return None
    return max(1, min(int((request or {}).get("maxMessages", 100)), 1000))
