"""What every figure shares: the environment, an embedded AWS (moto) built from the catalog, API Gateway
events for the real handlers, a local HTTP subscriber, Lambda's SQS poller, and botocore hooks that count
(and size) every AWS request the hub's code sends.

Nothing here is business logic: the handlers under `functions/` and the domain in `layers/hub/python/hub`
run unchanged; this module only drives them the way API Gateway, Lambda and SQS would.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import math
import os
import statistics
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import capacity
from local import harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER = os.path.join(ROOT, "layers", "hub", "python")
RESULTS_PATH = os.path.join(ROOT, "bench", "results.json")

ADMIN_KEY = "adm_bench_operator_key_0123456789"

# The in-process environment of the tests (local.harness). LOG_LEVEL stays at the production default (INFO);
# the log lines go to a sink, not the terminal.
ENV = {**harness.BASE_ENVIRONMENT, "LOG_LEVEL": "INFO", "ADMIN_API_KEY": ADMIN_KEY}


def configure_environment() -> None:
    """Must run before any hub module is imported (settings and Powertools read the environment)."""
    harness.configure_environment(ENV)


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def rounded(value: float, digits: int = 3) -> float:
    return float(round(value, digits))


# --- output -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def show_target(name: str, value: float, target: str, ok: bool, unit: str = "") -> str:
    line = f"  {name:<44} {value:>12,.3f} {unit:<6} target {target:<22} {verdict(ok)}"
    print(line, flush=True)
    return line


def show(name: str, value: float, unit: str = "", note: str = "") -> None:
    print(f"  {name:<44} {value:>12,.3f} {unit:<6} {note}", flush=True)


class _Sink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


SINK = _Sink()


def silence_powertools_logs() -> None:
    """Powertools' Logger writes JSON lines to the stdout it saw at import: send them to a sink
    (the formatting work is still done, as in Lambda)."""
    from hub.platform.observability import SERVICE

    for handler in logging.getLogger(SERVICE).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(SINK)


@contextmanager
def quiet():
    """Metrics (EMF) are printed to stdout on every invocation: drop them while handlers run."""
    with contextlib.redirect_stdout(SINK):
        yield


# --- the embedded AWS ---------------------------------------------------------------------------


def reset_cached_clients() -> None:
    """The hub caches its boto3 clients per process (as in Lambda): the meter's hooks reach the clients made
    next (tenant standings, secrets and ingest windows stay, as in a warm instance)."""
    from hub.delivery import fairness

    fairness.clear_cache()
    harness.reset_clients()


def embedded_aws(visibility_timeout_s: int = 60) -> contextlib.AbstractContextManager[None]:
    """moto with every catalog table and queue (fresh for each figure)."""
    return harness.embedded_aws(visibility_timeout_s)


def side_client(service: str):
    """A client of a session of its own: the meter's hooks are not on it (setup, poller, sizing)."""
    import boto3

    return boto3.session.Session(region_name=ENV["AWS_DEFAULT_REGION"]).client(service)


# --- the meter ----------------------------------------------------------------------------------


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    read_units: float = 0.0
    write_units: float = 0.0
    write_units_with_entry_overhead: float = 0.0
    """The same writes priced as if each index entry carried AWS's 100-byte storage overhead (bench/README.md)."""
    sqs_requests: float = 0.0
    items_read: int = 0
    started: float = 0.0
    ms: float = 0.0
    """Time from parameter build to the parsed response (with moto: its in-process service time)."""
    item_units: list[tuple[str, str, str, float]] = field(default_factory=list)
    """(kind, table, "table" or the index's name, write units) of each item a write request touched (with sizing)."""
    read_targets: list[tuple[str, float]] = field(default_factory=list)
    """("table" or "table.index", read units) of a read request (with sizing)."""
    before_items: list[dict[str, Any] | None] = field(default_factory=list)
    """With sizing: the whole items a write request touches, as they were before it."""

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass(frozen=True)
class Written:
    kind: str
    """Put, Update, Delete or ConditionCheck (a transaction's check is priced as a write that changes nothing)."""
    table: str
    key: dict[str, Any]
    item: dict[str, Any] | None
    """A Put's item."""


FAILED_WRITE_ERRORS = ("ConditionalCheckFailedException", "TransactionCanceledException")


class Meter:
    """Counts every AWS API request made through boto3's default session (the session behind
    `boto3.client(...)`, hence behind the hub's cached clients), with botocore event hooks:

    - `before-parameter-build`: one call recorded per API request (its parameters kept);
    - `after-call`: the parsed response (items read from Count/ScannedCount, 1 per GetItem that
      returned an item) and, with `sizing`, DynamoDB capacity units priced by `bench.capacity`.

    With `sizing`, a side client (not counted) reads each item a write touches, whole, before and after
    the write, and the tables' indexes as DescribeTable reports them: the write is priced on its table
    and on every index whose entry changed. Reads are priced from the whole items they read (a
    ProjectionExpression does not make a read cheaper). Timings are never taken with sizing on.
    """

    def __init__(self, sizing: bool = False) -> None:
        self.sizing = sizing
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._side = side_client("dynamodb") if sizing else None
        self._tables: dict[str, capacity.TableSpec] = {}
        self._session = None

    # registration -------------------------------------------------------------------------
    def attach(self) -> Meter:
        """Hooks the default boto3 session and drops the hub's cached clients, so the clients the
        handlers create next carry the hooks (a client copies its session's hooks when created)."""
        import boto3

        self._session = boto3._get_default_session()
        events = self._session.events
        events.register("before-parameter-build", self._before, unique_id=f"bench-meter-before-{id(self)}")
        events.register("after-call", self._after, unique_id=f"bench-meter-after-{id(self)}")
        reset_cached_clients()
        return self

    def detach(self) -> None:
        if self._session is not None:
            events = self._session.events
            events.unregister("before-parameter-build", unique_id=f"bench-meter-before-{id(self)}")
            events.unregister("after-call", unique_id=f"bench-meter-after-{id(self)}")
        reset_cached_clients()

    def reset(self) -> None:
        with self._lock:
            self.calls = []

    # hooks --------------------------------------------------------------------------------
    def _before(self, params, model, context, **_: Any) -> None:
        call = Call(model.service_model.service_name, model.name, dict(params), started=time.perf_counter())
        if self.sizing and call.service == "dynamodb":
            call.before_items = [self._current_item(w.table, w.key) for w in self._written(call)]
        context["bench_call"] = call
        with self._lock:
            self.calls.append(call)

    def _after(self, parsed, model, context, **_: Any) -> None:
        call: Call | None = context.get("bench_call")
        if call is None:
            return
        call.ms = (time.perf_counter() - call.started) * 1000
        call.response = parsed
        if call.service == "dynamodb":
            call.items_read = _items_read(call.operation, parsed)
            if self.sizing:
                self._price(call, parsed)
        elif call.service == "sqs":
            call.sqs_requests = _sqs_requests(call.operation, call.params)

    # sizing -------------------------------------------------------------------------------
    def _table(self, name: str) -> capacity.TableSpec:
        if name not in self._tables:
            self._tables[name] = capacity.TableSpec.from_description(self._side.describe_table(TableName=name)["Table"])
        return self._tables[name]

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self._table(table).keys if k in item}

    def _current_item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        if not key:
            return None
        return self._side.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _written(self, call: Call) -> list[Written]:
        """Each item a write request touches."""
        p, op = call.params, call.operation
        out: list[Written] = []
        if op == "TransactWriteItems":
            for entry in p.get("TransactItems", []):
                ((kind, body),) = entry.items()
                table, item = body["TableName"], body.get("Item")
                out.append(Written(kind, table, self._key_of(table, item) if item else body.get("Key", {}), item))
        elif op in ("PutItem", "UpdateItem", "DeleteItem"):
            table, item = p["TableName"], p.get("Item")
            out.append(Written(op[:-4], table, self._key_of(table, item) if item else p.get("Key", {}), item))
        elif op == "BatchWriteItem":
            for table, requests in p.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        out.append(Written("Put", table, self._key_of(table, item), item))
                    else:
                        out.append(Written("Delete", table, request["DeleteRequest"]["Key"], None))
        return out

    def _price(self, call: Call, parsed: dict[str, Any]) -> None:
        written = self._written(call)
        if written:
            self._price_writes(call, parsed, written)
        else:
            self._price_read(call, parsed)

    def _price_writes(self, call: Call, parsed: dict[str, Any], written: list[Written]) -> None:
        error = parsed.get("Error", {}).get("Code")
        if error and error not in FAILED_WRITE_ERRORS:
            return  # refused before anything was read or written (validation, throttling): not billed
        applied = error is None
        transactional = call.operation == "TransactWriteItems"
        for w, before in zip(written, call.before_items, strict=False):
            after = self._current_item(w.table, w.key) if applied else w.item
            table = self._table(w.table)
            priced = capacity.write_units(table, before, after, applied=applied, transactional=transactional)
            call.item_units += [(w.kind, w.table, target, float(n)) for target, n in priced.items()]
            call.write_units_with_entry_overhead += sum(
                capacity.write_units(
                    table,
                    before,
                    after,
                    applied=applied,
                    transactional=transactional,
                    entry_overhead=capacity.INDEX_ENTRY_STORAGE_OVERHEAD,
                ).values()
            )
        call.write_units = float(sum(u for *_, u in call.item_units))

    def _unprojected(self, call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What a read really read: with a ProjectionExpression, the same read again without it (side client)."""
        p, op = call.params, call.operation
        if "ProjectionExpression" not in p:
            return items
        if op == "GetItem":
            whole = self._current_item(p["TableName"], p["Key"])
            return [whole] if whole else []
        request = {
            k: v for k, v in p.items() if k not in ("ProjectionExpression", "Select", "ExpressionAttributeNames")
        }
        used = " ".join(p.get(k, "") for k in ("KeyConditionExpression", "FilterExpression"))
        names = {k: v for k, v in p.get("ExpressionAttributeNames", {}).items() if k in used}
        if names:
            request["ExpressionAttributeNames"] = names
        return getattr(self._side, "query" if op == "Query" else "scan")(**request).get("Items", [])

    def _price_read(self, call: Call, parsed: dict[str, Any]) -> None:
        op, p = call.operation, call.params
        if op == "GetItem":
            size = sum(
                capacity.item_size(i) for i in self._unprojected(call, [parsed["Item"]] if parsed.get("Item") else [])
            )
            call.read_targets.append((p["TableName"], capacity.item_read_units(size, bool(p.get("ConsistentRead")))))
        elif op == "BatchGetItem":
            for table, request in p.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                sizes = [capacity.item_size(i) for i in found]  # a projection is not undone here: the hub sends none
                sizes += [0] * max(0, len(request.get("Keys", [])) - len(found))
                consistent = bool(request.get("ConsistentRead"))
                call.read_targets.append((table, sum(capacity.item_read_units(s, consistent) for s in sizes)))
        elif op in ("Query", "Scan"):
            items = parsed.get("Items", [])
            index = p.get("IndexName")
            read = float(sum(capacity.item_size(i) for i in self._unprojected(call, items)))
            count, scanned = parsed.get("Count", len(items)), parsed.get("ScannedCount", len(items))
            if count and scanned > count:
                read = read * scanned / count  # filtered-out items are read too: assume the same mean size
            target = f"{p['TableName']}.{index}" if index else p["TableName"]
            call.read_targets.append(
                (target, capacity.query_read_units([math.ceil(read)], bool(p.get("ConsistentRead"))))
            )
        elif op == "TransactGetItems":
            for request, response in zip(p.get("TransactItems", []), parsed.get("Responses", []), strict=False):
                table = request["Get"]["TableName"]
                size = capacity.item_size(response.get("Item"))
                call.read_targets.append((table, capacity.item_read_units(size, True, transactional=True)))
        call.read_units = float(sum(u for _, u in call.read_targets))

    # summaries ----------------------------------------------------------------------------
    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)


def _items_read(operation: str, parsed: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(v) for v in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for r in parsed.get("Responses", []) if r.get("Item"))
    return 0


SQS_CHUNK = 64 * 1024


def _sqs_requests(operation: str, params: dict[str, Any]) -> float:
    """SQS bills each 64 KB chunk of a request's payload as one request."""
    if operation == "SendMessageBatch":
        size = sum(len(e.get("MessageBody", "").encode("utf-8")) for e in params.get("Entries", []))
    elif operation == "SendMessage":
        size = len(params.get("MessageBody", "").encode("utf-8"))
    else:
        size = 0
    return float(max(1, math.ceil(size / SQS_CHUNK)))


# --- API Gateway --------------------------------------------------------------------------------


class Api(harness.ApiClient):
    """Real API Gateway (REST, v1 proxy) events to the real handlers, in process (local.gateway)."""

    def __init__(self) -> None:
        from hub.platform import catalog
        from local.gateway import compile_routes

        super().__init__(ADMIN_KEY)
        self.resources = compile_routes(catalog.ROUTES)

    def call(self, method: str, target: str, **request: Any) -> harness.Reply:
        with quiet():
            return super().call(method, target, **request)

    def event(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
        """(function name, the proxy event API Gateway would send it) for one request."""
        from urllib.parse import urlsplit

        from local.gateway import build_event, match_route

        match = match_route(self.resources, method, urlsplit(target).path)
        return match.route.function, build_event(match, method, target, list(headers.items()), body)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        with quiet():
            return self.invoker.invoke(function, event)

    # setup helpers (not measured) ---------------------------------------------------------
    def create_tenant(self, name: str = "bench") -> dict[str, Any]:
        return super().create_tenant(name)

    def create_session(  # type: ignore[override]  # a session id of the bench's choosing, optionally subscribed
        self,
        api_key: str,
        session_id: str,
        webhook_url: str | None = None,
        events: list[str] | None = None,
        user_id: str = "user-1",
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"sessionId": session_id, "userId": user_id}
        if webhook_url:
            fields["webhookUrl"] = webhook_url
        if events is not None:
            fields["events"] = events
        return super().create_session(api_key, **fields)


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Webhook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Host": "hub.example.com",
        "User-Agent": "bench-gateway/1",
    }


_STATUS_EVENTS = (
    ("ready", {}),
    ("disconnected", {"reason": "network"}),
)


def status_body(n: int) -> bytes:
    """A whatsapp-web.js status event; consecutive ones alternate connected / not connected (each
    changes the session's status), and each is distinct (its own timestamp)."""
    name, data = _STATUS_EVENTS[n % 2]
    return json.dumps({"event": name, "data": data, "timestamp": 1767225600000 + n * 1000}).encode()


def message_body(n: int, text: str | None = None) -> bytes:
    """A whatsapp-web.js message event with its own message id (body `Hello <n>` unless `text`)."""
    return json.dumps(
        {
            "event": "message",
            "data": {
                "message": {
                    "id": f"bench_msg_{n:06d}",
                    "body": text if text is not None else f"Hello {n}",
                    "from": "6281234567890@c.us",
                    "to": "6289876543210@c.us",
                    "timestamp": 1767225600 + n,
                }
            },
        }
    ).encode()


def ack_body(n: int) -> bytes:
    """A whatsapp-web.js message_ack (delivered) of message `n` sent by the session."""
    return json.dumps(
        {
            "event": "message_ack",
            "data": {
                "message": {
                    "id": {
                        "_serialized": f"true_6289876543210@c.us_BENCH{n:06d}",
                        "fromMe": True,
                        "id": f"BENCH{n:06d}",
                        "remote": "6289876543210@c.us",
                    },
                    "from": "6281234567890@c.us",
                    "to": "6289876543210@c.us",
                    "fromMe": True,
                    "timestamp": 1767225600 + n,
                },
                "ack": 2,
            },
        }
    ).encode()


def loading_body(n: int) -> bytes:
    """A whatsapp-web.js loading_screen (progress) event: the session's status stays `loading`."""
    return json.dumps(
        {
            "event": "loading_screen",
            "data": {"percent": n % 101, "message": "WhatsApp"},
            "timestamp": 1767225600000 + n * 1000,
        }
    ).encode()


def qr_string(n: int) -> str:
    """A QR string shaped like WhatsApp Web's (`2@<ref>,<noise key>,<identity key>,<secret>`: 217
    bytes), distinct for each `n`."""

    def b64(label: str, size: int) -> str:
        import base64

        return base64.b64encode(hashlib.sha512(f"{label}{n}".encode()).digest()[:size]).decode()

    return f"2@{b64('ref', 60)},{b64('noise', 32)},{b64('identity', 32)},{b64('secret', 32)}"


def qr_body(n: int) -> bytes:
    """A whatsapp-web.js qr event carrying the QR string (the hub renders and stores its PNG)."""
    return json.dumps({"event": "qr", "data": {"qr": qr_string(n)}, "timestamp": 1767225600000 + n * 1000}).encode()


def receive_target(handle: str) -> str:
    """The receiver URL's path of the session with this receiver handle."""
    return f"/api/whatsapp/webhook/{handle}"


def post_event(api: Api, session: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Posts a gateway body to the session's receiver URL, signed with its inbound secret: the answer's data."""
    reply = api.call(
        "POST",
        receive_target(session["receiverHandle"]),
        raw=body,
        headers=signed_headers(session["inboundSecret"], body),
    )
    if reply.status != 200:
        raise RuntimeError(f"receiver answered {reply.status}: {reply.raw[:300]!r}")
    return reply.json["data"]


# --- Lambda's SQS poller for the delivery worker -----------------------------------------------


class WorkerPoller:
    """Receives up to 10 messages, invokes the worker with Lambda's SQS event, deletes the ones that
    succeeded: the event source mapping's part, made with a side client so the meter does not count
    it (its requests are accounted for separately, as Lambda batches them)."""

    def __init__(self, api: Api) -> None:
        from hub.delivery import queue
        from hub.platform import catalog

        self.api = api
        self.function = next(f for f in catalog.FUNCTIONS if f.sqs_trigger == catalog.DELIVERY_QUEUE.id)
        self.sqs = side_client("sqs")
        self.url = queue.queue_url()
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def receive(self, want: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < want and time.monotonic() < deadline:
            got = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, want - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += got
        if len(messages) < want:
            raise RuntimeError(f"expected {want} delivery messages, got {len(messages)}")
        return messages

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        from local.poller import build_sqs_event

        return build_sqs_event(messages, self.arn, ENV["AWS_DEFAULT_REGION"])

    def invoke(self, messages: list[dict[str, Any]]) -> tuple[Any, float]:
        """(the worker's result, its duration in ms); then deletes what succeeded."""
        from local.poller import failed_message_ids

        event = self.event(messages)
        started = time.perf_counter()
        result = self.api.invoke(self.function.name, event)
        elapsed = (time.perf_counter() - started) * 1000
        ids = {m["MessageId"] for m in messages}
        keep = failed_message_ids(result, ids)
        done = [m for m in messages if m["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        if keep:
            raise RuntimeError(f"the worker reported {len(keep)} failed deliveries: {result}")
        return result, elapsed

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# --- Lambda's DynamoDB stream pollers for the dispatcher and the aggregator ---------------------


class TimedInvoker:
    """What local.streams' pollers invoke through: the bench's Api, timing every invocation."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.ms: dict[str, list[float]] = {}

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        result = self.api.invoke(function_name, event)
        self.ms.setdefault(function_name, []).append((time.perf_counter() - started) * 1000)
        return result


class StreamPump:
    """The stream event source mappings of one function (local.streams, with clients of their own, so
    the meter does not count their GetRecords: Lambda's poller makes them, free of charge)."""

    def __init__(self, api: Api, function_name: str) -> None:
        from hub.platform import catalog
        from local import streams

        self.invoker = TimedInvoker(api)
        function = catalog.function(function_name)
        clients = streams.Clients.create()
        self.pollers = [
            streams.StreamPoller(function, t, self.invoker, clients, raise_errors=True)
            for t in function.stream_triggers
        ]

    def drain(self) -> int:
        """Hands every new record to the function, in batches of its triggers' sizes; returns the records."""
        return sum(p.drain() for p in self.pollers)

    @property
    def invocations(self) -> int:
        return sum(len(v) for v in self.invoker.ms.values())


# --- a local HTTP subscriber --------------------------------------------------------------------


Subscriber = harness.Subscriber


# --- results ------------------------------------------------------------------------------------


def load_results() -> dict[str, Any]:
    try:
        with open(RESULTS_PATH) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_results(results: dict[str, Any]) -> None:
    with open(RESULTS_PATH, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
