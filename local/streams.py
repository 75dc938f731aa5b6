"""Lambda's DynamoDB stream event source mapping, for the local hub, the tests and the benchmarks.

For one StreamTrigger of one function: reads the table's stream shard by shard, invokes the
function with the event Lambda builds (up to `batch_size` records), and moves on as Lambda does
with ReportBatchItemFailures: past the whole batch when the function succeeds without failures,
up to the lowest sequence number it reports otherwise (retried from there on the next poll). A
failed invocation is retried, split in two first when the trigger bisects on errors (the split
counts no retry). Once a retried batch exceeds `retry_attempts` (-1: no limit) or holds a record
older than `max_record_age_s`, it is sent as Lambda's on-failure record (shard and sequence range,
not the records) to the trigger's failure queue and skipped. The batching window is not waited
for: locally a batch goes out as soon as records are there.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import boto3

from hub.platform import catalog, settings
from hub.platform.stream_reader import lambda_record
from local.runtime import Invoking, PollingThread

log = logging.getLogger("local")

SHARD_REFRESH_S = 60.0


@cache
def _session() -> boto3.session.Session:
    """One session per process: its loaded service models make every later client quick to create."""
    return boto3.session.Session()


@dataclass(frozen=True)
class Clients:
    """The event source mapping's own clients (a boto3 session of their own: never counted as the hub's)."""

    dynamodb: Any
    streams: Any
    sqs: Any

    @classmethod
    def create(cls) -> Clients:
        session = _session()
        region = session.region_name or os.environ["AWS_DEFAULT_REGION"]
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"https://streams.dynamodb.{region}.amazonaws.com"
        return cls(
            session.client("dynamodb"), session.client("dynamodbstreams", endpoint_url=endpoint), session.client("sqs")
        )


class StreamPoller(PollingThread):
    """Polls one table's stream for one function."""

    def __init__(
        self,
        function: catalog.Function,
        trigger: catalog.StreamTrigger,
        invoker: Invoking,
        clients: Clients,
        wait_s: float = 0.2,
        raise_errors: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`raise_errors` lets a failing invocation's exception through (tests), after counting it;
        `now` is the clock record ages are measured with."""
        super().__init__(f"stream-{function.name}-{trigger.table}", idle_wait_s=wait_s)
        self.function = function
        self._raise_errors = raise_errors
        self.trigger = trigger
        self._invoker = invoker
        self._streams = clients.streams
        self._sqs = clients.sqs
        self._now = now
        table_name = settings.table_name(catalog.table(trigger.table))
        self.stream_arn = clients.dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}
        self._shards_listed_at = float("-inf")
        self._failures: dict[str, int] = {}
        self._limits: dict[str, int] = {}

    def _shard_iterators(self) -> dict[str, str]:
        """The current iterator of each shard; shards are listed again every SHARD_REFRESH_S."""
        if time.monotonic() < self._shards_listed_at + SHARD_REFRESH_S:
            return self._iterators
        self._shards_listed_at = time.monotonic()
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
        return self._iterators

    def _iterator_at(self, shard_id: str, sequence_number: str) -> str:
        return self._streams.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence_number,
        )["ShardIterator"]

    def poll_once(self) -> int:
        """One read per shard and one invocation per non-empty batch; returns the records done with."""
        handled = 0
        for shard_id, iterator in list(self._shard_iterators().items()):
            limit = self._limits.get(shard_id, self.trigger.batch_size)
            response = self._streams.get_records(ShardIterator=iterator, Limit=limit)
            records = response["Records"]
            following = response.get("NextShardIterator") or iterator
            if not records:
                self._iterators[shard_id] = following
                continue
            done, retry_from = self._invoke(shard_id, records)
            handled += done
            if retry_from is None:
                self._iterators[shard_id] = following
            elif done:
                self._iterators[shard_id] = self._iterator_at(shard_id, retry_from)
        return handled

    def _invoke(self, shard_id: str, records: list[dict[str, Any]]) -> tuple[int, str | None]:
        """The records done with (handled, or sent to the failure queue) and the sequence number to read
        from next (None: after the batch)."""
        event = {"Records": [lambda_record(r, self.stream_arn) for r in records]}
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        try:
            response = self._invoker.invoke(self.function.name, event)
        except Exception as error:
            failures = self._failures[shard_id] = self._failures.get(shard_id, 0) + 1
            if failures == 1:
                log.exception(
                    "%s failed on a batch of %d from %s; retrying it",
                    self.function.name,
                    len(records),
                    self.trigger.table,
                )
            else:
                log.warning("%s failed again on the same batch (failure %d): %s", self.function.name, failures, error)
            if self.trigger.bisect_on_error and len(records) > 1:
                self._limits[shard_id] = len(records) // 2  # Lambda splits a failed batch, counting no retry
                self._failures[shard_id] -= 1
            elif self._exhausted(shard_id, records):
                self._send_on_failure_record(shard_id, records, type(error).__name__)
                return len(records), None
            if self._raise_errors:
                raise
            return 0, sequence[0]
        failed = [f.get("itemIdentifier") for f in (response or {}).get("batchItemFailures", [])]
        if not failed:
            self._failures.pop(shard_id, None)
            self._limits.pop(shard_id, None)
            return len(records), None
        retry_from = min(failed, key=lambda s: int(s)) if all(s in sequence for s in failed) else sequence[0]
        done = sequence.index(retry_from)
        if done:
            self._failures.pop(shard_id, None)  # progress: the rest is a new batch
        failures = self._failures[shard_id] = self._failures.get(shard_id, 0) + 1
        log.warning(
            "%s reported record %s of %s as failed (failure %d)",
            self.function.name,
            retry_from,
            self.trigger.table,
            failures,
        )
        if not done and self._exhausted(shard_id, records):
            self._send_on_failure_record(shard_id, records, "BatchItemFailures")
            return len(records), None
        return done, retry_from

    def _exhausted(self, shard_id: str, records: list[dict[str, Any]]) -> bool:
        """True when Lambda would give up on the batch: too many retries, or a record too old."""
        attempts = self.trigger.retry_attempts
        created = records[0]["dynamodb"].get("ApproximateCreationDateTime")
        oldest = created.timestamp() if isinstance(created, datetime) else float(created or self._now())
        return (0 <= attempts < self._failures.get(shard_id, 0)) or self._now() - oldest > self.trigger.max_record_age_s

    def _send_on_failure_record(self, shard_id: str, records: list[dict[str, Any]], error: str) -> None:
        """Lambda's on-failure record for a stream batch: metadata only (shard, sequence range), never the records."""
        self._failures.pop(shard_id, None)
        self._limits.pop(shard_id, None)
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        body = {
            "requestContext": {"functionArn": self.function.name, "condition": "RetryAttemptsExhausted"},
            "responseContext": {"functionError": error},
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "streamArn": self.stream_arn,
                "batchSize": len(records),
                "startSequenceNumber": sequence[0],
                "endSequenceNumber": sequence[-1],
            },
        }
        failures_url = os.environ[catalog.failure_queue(self.trigger.failures_to).env_var]
        self._sqs.send_message(QueueUrl=failures_url, MessageBody=json.dumps(body))

    def drain(self, max_polls: int = 1000) -> int:
        """Polls until the stream has nothing new (or a batch fails); returns the records handled."""
        handled = 0
        for _ in range(max_polls):
            count = self.poll_once()
            if not count:
                break
            handled += count
        return handled


def pollers(
    invoker: Invoking, wait_s: float = 0.2, raise_errors: bool = False, now: Callable[[], float] = time.time
) -> list[StreamPoller]:
    """One poller per stream trigger of the catalog's functions, sharing one set of clients."""
    clients = Clients.create()
    return [
        StreamPoller(f, t, invoker, clients, wait_s, raise_errors, now)
        for f in catalog.FUNCTIONS
        for t in f.stream_triggers
    ]


def drain_all(stream_pollers: list[StreamPoller], rounds: int = 10) -> int:
    """Runs every poller until none has anything left (the dispatcher's and aggregator's work can chain)."""
    total = 0
    for _ in range(rounds):
        handled = sum(p.drain() for p in stream_pollers)
        total += handled
        if not handled:
            break
    return total
