"""The single declaration of the hub's routes, functions, tables and queues.

The CDK stack (`infra/`), the local hub (`local/`) and the tests are all built from
these objects; nothing else lists a route, a table or a queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["tenant", "admin", "gateway", "public", "link"]
SuccessStatus = Literal[200, 201, 202, 204]
"""`link`: a connect link's token (hub.connect.links), in the path or as `Authorization: Bearer`; checked by the handler."""
KeyType = Literal["S", "N"]
StreamView = Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    """A global secondary index. Every index write is billed again on top of the table's, so an index holds
    only what its queries need: KEYS_ONLY (the table's and the index's keys) unless a listing filters or sorts
    on more (INCLUDE `non_key_attributes`); the store completes a page from the table (BatchGetItem).

    `replaces` names the ALL-projection index of the same keys that this one replaced: a projection cannot be
    changed in place, so a deployed table moves to this one in steps (docs/migration.md) during which the
    store falls back to the replaced index while this one is missing or backfilling."""

    name: str
    partition_key: Key
    sort_key: Key | None = None
    projection: Projection = "KEYS_ONLY"
    non_key_attributes: tuple[str, ...] = ()
    replaces: str | None = None
    fallback: str | None = None
    """A retired index (`Table.retired`) of other keys that the store lists through while this one is missing
    or backfilling, in a migration's steps (docs/migration.md)."""


@dataclass(frozen=True)
class Table:
    id: str
    env_var: str
    partition_key: Key
    sort_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: StreamView | None = None
    """The table's DynamoDB stream, read by the functions that have a StreamTrigger on it."""
    retired: tuple[Index, ...] = ()
    """Indexes of an earlier release that no declared index replaces with the same keys: a deployed table keeps
    them while a migration needs them (docs/migration.md), never otherwise."""


MAX_RETRY_ATTEMPTS = 10
"""Most retries any subscription may ask for (docs/contract.md §8)."""

API_INTEGRATION_TIMEOUT_S = 29
"""API Gateway (REST) stops waiting for a Lambda integration after 29 s and answers 504; the function
keeps running. Every API answer must come well inside it (REQUEST_WORK_BUDGET_S, WEBHOOK_TEST_TIMEOUT_MS)."""

API_MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""API Gateway (REST) refuses a request body over 10 MB with 413 (not raisable)."""

LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's limit on a synchronous invocation's request (the proxy event) and response (6 MB each)."""

REQUEST_WORK_BUDGET_S = 5
"""Longest a request spends on bulk work (clearing logs, purging a session or a revoked tenant) before it
answers with `complete: false`; repeating the request carries on. Under the 10 s API functions' timeout."""

WEBHOOK_TEST_TIMEOUT_MS = 15_000
"""Longest POST /api/webhook/test waits for the subscriber's answer (WEBHOOK_TIMEOUT_MS when shorter). With
the sender's 5 s connect timeout, the route answers within about 20 s, inside API_INTEGRATION_TIMEOUT_S."""


RETRY_UNTIL_MAX_RECORD_AGE = -1
"""A stream event source's MaximumRetryAttempts meaning "no count": a failing batch is retried until its
records reach the mapping's MaximumRecordAgeInSeconds. A count (at most 10,000) is no time bound: a batch
that fails fast spends it in minutes."""

STREAM_RETENTION_S = 24 * 3600
"""How long a DynamoDB stream keeps a record."""

STREAM_MAX_RECORD_AGE_S = STREAM_RETENTION_S - 4 * 3600
"""MaximumRecordAgeInSeconds of the hub's stream event sources. Only a hub-wide outage (SQS or DynamoDB
refusing every write) or a function crash keeps a record failing this long: a record-specific failure is set
aside by the function at once. Past it, Lambda sends its on-failure record (shard and sequence range, not the
records) to the function's failure queue, 4 hours before the stream drops the records themselves."""


@dataclass(frozen=True)
class Queue:
    """An SQS queue with its dead-letter queue.

    `max_receive_count` is the redrive threshold: every retry is one more receive (two for a
    wait longer than one receive may hide a message), so it sits well above the longest retry
    schedule; only messages the consumer never gets to handle (crashes, timeouts) are redriven
    by SQS itself. `retention_days` keeps a message for longer than its longest schedule: SQS
    deletes an expired message without redriving it.
    """

    id: str
    env_var: str
    dead_letter_env_var: str
    max_receive_count: int
    retention_days: int = 14
    """SQS's maximum (1,209,600 s)."""
    dlq_retention_days: int = 14
    visibility_factor: int = 6
    """The queue's visibility timeout is this many times its consumer's function timeout (AWS's advice for a
    Lambda event source: at least 6), so a batch still in flight is not handed to a second instance
    (`visibility_timeout_s`)."""


@dataclass(frozen=True)
class FailureQueue:
    """An SQS queue where a stream function sets aside the records it cannot process (docs/stream-failures.md).

    The function puts each such record there whole (its images, the error), so it can be replayed after the
    stream and the event's dedupe record have expired; Lambda's own on-failure records (metadata of a batch
    that failed until `StreamTrigger.max_record_age_s`) land there too. `what_failed` is said by its alarm.
    """

    id: str
    env_var: str
    function: str
    what_failed: str
    retention_days: int = 14
    replayable: bool = True
    """False where a record is worth nothing later (a push to a page): the queue only says what was missed."""


@dataclass(frozen=True)
class StreamTrigger:
    """A DynamoDB stream event source: Lambda reads the table's stream and invokes the function with batches.

    The function answers with partial batch responses (ReportBatchItemFailures): it processes records in
    order, sets aside into its failure queue (`failures_to`) at once a record it can never process, and on a
    transient failure (throttling, an AWS service unavailable) reports the record it stopped at, so Lambda
    retries from there. Retries are bounded by age, not count (RETRY_UNTIL_MAX_RECORD_AGE,
    STREAM_MAX_RECORD_AGE_S). `bisect_on_error` splits a batch whose invocation fails (a timeout, a crash)
    to isolate the record behind it.
    """

    table: str
    batch_size: int
    batching_window_s: int
    failures_to: str
    bisect_on_error: bool = True
    retry_attempts: int = RETRY_UNTIL_MAX_RECORD_AGE
    max_record_age_s: int = STREAM_MAX_RECORD_AGE_S


@dataclass(frozen=True)
class Function:
    """A Lambda function: its folder under functions/, sizing, and what it touches."""

    name: str
    description: str
    memory_mb: int
    timeout_s: int
    tables: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    sqs_trigger: str | None = None
    batch_size: int = 10
    stream_triggers: tuple[StreamTrigger, ...] = ()
    max_concurrency: int | None = None
    reserved_concurrency: int | None = None
    """Lambda reserved concurrency: the function never runs more instances than this, and they are kept for it.
    The stack sets it unless its `reserveConcurrency` context is false (AWS keeps 100 of the account's
    concurrency unreserved, so small accounts cannot reserve any)."""
    manages_api_keys: bool = False
    reads_link_secret: bool = False
    """Reads the connect-link signing secret (Secrets Manager in the cloud, CONNECT_LINK_SECRET locally)."""
    manages_connections: bool = False
    """Posts to and drops the WebSocket API's connections (execute-api:ManageConnections on its @connections)."""

    @property
    def module(self) -> str:
        return f"functions.{self.name}.handler"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: Auth
    summary: str = ""
    body: bool = False
    content_types: tuple[str, ...] = ("application/json",)
    """Media types of the success response (the connect page serves HTML, script, style, an icon)."""
    success_status: SuccessStatus = 200
    """The status of its success answer (201: it creates something); the handler answers it
    (hub.platform.http.success) and the OpenAPI document declares it."""


TENANTS = Table(
    id="Tenants",
    env_var="TENANTS_TABLE",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
    ttl_attribute="expiresAt",  # a rotated-out gateway-credential key's lookup, after its overlap
)
"""Tenant records and the lookups a caller's credential or URL is resolved by: API-key hashes, receiver handles
(hub.sessions.store), gateway-credential hashes (hub.tenants.store)."""
SESSIONS_BY_OWNER = Index("byOwnerKeys", Key("ownerKey"), Key("sessionId"), replaces="byOwner")
SESSIONS_LIST = Index("byTenantList", Key("tenantId"), Key("listKey"), fallback="byTenant")
"""The session listings' indexes (keys only: a page is completed from the table). `listKey` is
`<bucket>#<status>#<sessionId>`: the tenant's list, and with begins_with its bucket and status filters, from one
index, whose entry a status change moves once (hub.sessions.store)."""
SESSIONS = Table(
    id="Sessions",
    env_var="SESSIONS_TABLE",
    # `<tenantId>#<sessionId>`: a session id is the tenant's own (two tenants may each have `default`); one
    # partition per session, so no tenant's traffic shares one partition key (docs/migration.md).
    partition_key=Key("sessionKey"),
    indexes=(SESSIONS_BY_OWNER, SESSIONS_LIST),
    stream="NEW_AND_OLD_IMAGES",
    retired=(
        Index("byTenant", Key("tenantId"), Key("sessionId"), projection="ALL"),
        Index("byStatus", Key("statusKey"), Key("sessionId"), projection="ALL"),
        Index("byBucket", Key("bucketKey"), Key("sessionId"), projection="ALL"),
    ),
)
EVENTS = Table(
    id="Events",
    env_var="EVENTS_TABLE",
    partition_key=Key("sessionKey"),  # the session's `<tenantId>#<sessionId>`, as in Sessions
    sort_key=Key("eventKey"),
    ttl_attribute="expiresAt",
    stream="NEW_AND_OLD_IMAGES",
)
COUNTERS = Table(
    id="Counters",
    env_var="COUNTERS_TABLE",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
    ttl_attribute="expiresAt",  # the aggregator's applied-record markers (hub.counters.store); counters never expire
)
DELIVERIES_BY_TENANT = Index("byTenantKeys", Key("tenantShard"), Key("createdKey"))
"""The tenant-wide log listing (keys only: a page is completed from the table). `tenantShard` is
`<tenant>#<shard of the instance>`: every delivery writes an entry, so one partition per tenant would cap a tenant
at DynamoDB's 1,000 write units per second per partition; the store spreads a tenant over its shards
(hub.delivery.store.TENANT_SHARDS) and merges them newest first."""
DELIVERIES = Table(
    id="Deliveries",
    env_var="DELIVERIES_TABLE",
    # `<tenant>#<instance>`, `<createdAt>#<digest>`: an instance's logs, newest first, are a partition of the
    # table; the webhook id carries this key (hub.delivery.outbound.locate).
    partition_key=Key("instanceKey"),
    sort_key=Key("createdKey"),
    indexes=(DELIVERIES_BY_TENANT,),
    ttl_attribute="expiresAt",
    stream="NEW_AND_OLD_IMAGES",
)
CONNECTIONS = Table(
    id="Connections",
    env_var="CONNECTIONS_TABLE",
    partition_key=Key("sessionKey"),
    sort_key=Key("connectionId"),
    indexes=(Index("byConnection", Key("connectionId"), Key("sessionKey"), projection="ALL"),),
    ttl_attribute="expiresAt",
)
"""Who watches which session (its `<tenantId>#<sessionId>`) over the WebSocket API: one item per (session,
connection), gone at TTL."""
ENDPOINTS = Table(
    id="Endpoints",
    env_var="ENDPOINTS_TABLE",
    partition_key=Key("endpointKey"),
    ttl_attribute="expiresAt",
)
"""The delivery side's operational state, one item type per key prefix: the worker's per-endpoint circuit breakers
(hub.delivery.fairness, one item per (tenant, subscriber origin) that timed out recently), the health of failing
subscriptions (`health#…`) and recoveries' progress (`recovery#…`, hub.delivery.endpoints_store)."""
TABLES: tuple[Table, ...] = (TENANTS, SESSIONS, EVENTS, COUNTERS, DELIVERIES, CONNECTIONS, ENDPOINTS)

DELIVERY_QUEUE = Queue(
    id="Delivery",
    env_var="DELIVERY_QUEUE_URL",
    dead_letter_env_var="DELIVERY_DLQ_URL",
    max_receive_count=4 * MAX_RETRY_ATTEMPTS,
)
"""40 receives: the longest schedule takes 21 (hub.delivery.backoff.MOST_RECEIVES), the rest is margin for crashes."""
QUEUES: tuple[Queue, ...] = (DELIVERY_QUEUE,)

DISPATCHER_FAILURES = FailureQueue(
    id="DispatcherFailures",
    env_var="DISPATCHER_FAILURES_QUEUE_URL",
    function="dispatcher",
    what_failed="recorded events the dispatcher could not fan out to the delivery queue: their subscribers got nothing",
)
AGGREGATOR_FAILURES = FailureQueue(
    id="AggregatorFailures",
    env_var="AGGREGATOR_FAILURES_QUEUE_URL",
    function="aggregator",
    what_failed="table changes the aggregator could not count: summaries, usage or stats miss them",
)
PUSH_FAILURES = FailureQueue(
    id="PushFailures",
    env_var="PUSH_FAILURES_QUEUE_URL",
    function="push",
    what_failed="session changes the push function could not send to open connect pages (those pages showed the "
    "change at their next poll or push)",
    replayable=False,
)
FAILURE_QUEUES: tuple[FailureQueue, ...] = (DISPATCHER_FAILURES, AGGREGATOR_FAILURES, PUSH_FAILURES)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="receiver",
        description="Gateway webhooks: authenticate, rate-limit, validate, normalize, apply state, record the event (dedupe)",
        memory_mb=512,
        timeout_s=10,
        # Counters: the per-session ingest limit's window items (hub.ingest.limits_store).
        tables=(TENANTS.id, SESSIONS.id, EVENTS.id, COUNTERS.id),
        # A flood of gateway posts (refused or not) takes at most this much of the account's concurrency,
        # leaving the rest to the tenant routes, the dispatcher and the delivery worker.
        reserved_concurrency=100,
    ),
    Function(
        name="sessions",
        description="Tenant session routes: register, delete, status, list, instance webhook, usage",
        memory_mb=256,
        timeout_s=10,
        tables=(TENANTS.id, SESSIONS.id, EVENTS.id, COUNTERS.id, DELIVERIES.id),
    ),
    Function(
        name="admin",
        description="Operator routes: create, list and revoke tenants (revocation purges the tenant's data); "
        "a tenant's own API keys",
        memory_mb=256,
        timeout_s=10,
        tables=(TENANTS.id, SESSIONS.id, EVENTS.id, DELIVERIES.id),
        manages_api_keys=True,
    ),
    Function(
        name="webhooks",
        description="Webhook management routes: subscriptions, test, logs, retry, stats, clear",
        memory_mb=256,
        timeout_s=30,
        # Sessions: POST /api/webhook/test with an instanceId and no secret reads that session's subscription.
        # Events: a log's payload is read from its event's record (hub.delivery.payloads).
        # Endpoints: recoveries' records (hub.delivery.endpoints_store).
        tables=(TENANTS.id, SESSIONS.id, EVENTS.id, DELIVERIES.id, COUNTERS.id, ENDPOINTS.id),
        queues=(DELIVERY_QUEUE.id,),
    ),
    Function(
        name="dispatcher",
        description="Fans recorded events out to the delivery queue, one message per subscription",
        memory_mb=256,
        timeout_s=30,
        tables=(DELIVERIES.id,),
        queues=(DELIVERY_QUEUE.id,),
        stream_triggers=(
            StreamTrigger(EVENTS.id, batch_size=100, batching_window_s=0, failures_to=DISPATCHER_FAILURES.id),
        ),
    ),
    Function(
        name="delivery_worker",
        description="Delivers queued events to subscribers, signed, with SQS-carried backoff",
        memory_mb=512,
        timeout_s=60,
        # Sessions, Tenants: the subscription's current secret is read at send time (hub.delivery.secrets), from
        # its session or, for a tenant-wide subscription, its tenant record.
        # Events: a retry reads the payload from the event's record (hub.delivery.payloads).
        tables=(TENANTS.id, SESSIONS.id, EVENTS.id, DELIVERIES.id, ENDPOINTS.id),
        queues=(DELIVERY_QUEUE.id,),
        sqs_trigger=DELIVERY_QUEUE.id,
        batch_size=10,
        max_concurrency=20,
    ),
    Function(
        name="aggregator",
        description="Keeps the session summaries, usage and delivery stats counters from the tables' streams",
        memory_mb=256,
        timeout_s=60,
        tables=(COUNTERS.id,),
        stream_triggers=tuple(
            # No bisection: a retried batch must start where the failed one did, for its groups' markers to
            # recognize it (hub.counters.store.apply_once); a bad record is set aside by the function itself.
            StreamTrigger(
                table_id,
                batch_size=1000,
                batching_window_s=5,
                failures_to=AGGREGATOR_FAILURES.id,
                bisect_on_error=False,
            )
            for table_id in (SESSIONS.id, EVENTS.id, DELIVERIES.id)
        ),
    ),
    Function(
        name="connect",
        description="Connect links: create them (tenant key), serve the connect page and its token-scoped status",
        memory_mb=256,
        timeout_s=10,
        tables=(TENANTS.id, SESSIONS.id),
        reads_link_secret=True,
    ),
    Function(
        name="sockets",
        description="WebSocket API $connect/$disconnect: checks the link token, records who watches which session",
        memory_mb=256,
        timeout_s=10,
        tables=(TENANTS.id, SESSIONS.id, CONNECTIONS.id),
        reads_link_secret=True,
    ),
    Function(
        name="push",
        description="Pushes each change of a watched session's status (and new QR codes) to its WebSocket connections",
        memory_mb=256,
        timeout_s=30,
        tables=(CONNECTIONS.id,),
        manages_connections=True,
        # The Sessions stream's second (and last advised) reader, after the aggregator.
        stream_triggers=(
            StreamTrigger(
                SESSIONS.id,
                batch_size=100,
                batching_window_s=0,
                retry_attempts=2,
                bisect_on_error=True,
                failures_to=PUSH_FAILURES.id,
            ),
        ),
    ),
)

MAX_STREAM_READERS = 2
"""DynamoDB's advice: at most two processes read one stream shard at a time, or they are throttled."""

ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", "sessions", "public", "Liveness and version"),
    Route(
        "POST",
        "/api/whatsapp/webhook/{handle}",
        "receiver",
        "gateway",
        "Receive one gateway event (receiver URL)",
        body=True,
    ),
    Route(
        "POST", "/api/whatsapp/webhook", "receiver", "gateway", "Receive one gateway event (session in body)", body=True
    ),
    Route(
        "POST",
        "/api/whatsapp/webhook/{handle}/{event}",
        "receiver",
        "gateway",
        "Receive one gateway event (receiver URL with the event appended, Evolution API's webhookByEvents)",
        body=True,
    ),
    Route("GET", "/api/whatsapp/webhook/{handle}", "receiver", "gateway", "Verification challenge"),
    Route("POST", "/api/whatsapp/session", "sessions", "tenant", "Register a session", body=True, success_status=201),
    Route("DELETE", "/api/whatsapp/session/{sessionId}", "sessions", "tenant", "Delete a session"),
    Route("GET", "/api/whatsapp/session/status/{sessionId}", "sessions", "tenant", "Session status"),
    Route("GET", "/api/whatsapp/session/list-realtime", "sessions", "tenant", "List sessions with summary"),
    Route("PUT", "/api/instance/{instanceId}", "sessions", "tenant", "Set the default webhook subscription", body=True),
    Route("GET", "/api/usage", "sessions", "tenant", "Per-day usage counts"),
    Route(
        "POST",
        "/api/gateway-credentials",
        "sessions",
        "tenant",
        "Register a gateway credential (authenticates every session of the tenant on one gateway)",
        body=True,
        success_status=201,
    ),
    Route("GET", "/api/gateway-credentials", "sessions", "tenant", "List gateway credentials (never their keys)"),
    Route("DELETE", "/api/gateway-credentials/{credentialId}", "sessions", "tenant", "Revoke a gateway credential"),
    Route(
        "POST",
        "/api/gateway-credentials/{credentialId}/rotate-secret",
        "sessions",
        "tenant",
        "Rotate a gateway credential's key (the current one stays accepted for the overlap)",
        body=True,
    ),
    Route(
        "POST",
        "/api/whatsapp/session/{sessionId}/rotate-inbound-secret",
        "sessions",
        "tenant",
        "Rotate a session's inbound secret (the current one stays accepted for the overlap)",
        body=True,
    ),
    *(
        route
        for base, whose in (
            ("/api/instance/{instanceId}/subscriptions", "session"),
            ("/api/subscriptions", "tenant-wide"),
        )
        for route in (
            Route("GET", base, "webhooks", "tenant", f"List {whose} subscriptions"),
            Route(
                "POST",
                base,
                "webhooks",
                "tenant",
                f"Create a {whose} subscription (secret shown once)",
                True,
                success_status=201,
            ),
            Route("GET", f"{base}/{{subscriptionId}}", "webhooks", "tenant", f"One {whose} subscription"),
            Route(
                "PUT", f"{base}/{{subscriptionId}}", "webhooks", "tenant", f"Replace a {whose} subscription", body=True
            ),
            Route(
                "PATCH",
                f"{base}/{{subscriptionId}}",
                "webhooks",
                "tenant",
                f"Change fields of a {whose} subscription",
                body=True,
            ),
            Route("DELETE", f"{base}/{{subscriptionId}}", "webhooks", "tenant", f"Delete a {whose} subscription"),
            Route(
                "POST",
                f"{base}/{{subscriptionId}}/recoveries",
                "webhooks",
                "tenant",
                f"Re-send a {whose} subscription's failed deliveries since a time, in the background",
                body=True,
                success_status=202,
            ),
            Route(
                "POST",
                f"{base}/{{subscriptionId}}/rotate-secret",
                "webhooks",
                "tenant",
                f"Rotate a {whose} subscription's secret, the old one signing too for an overlap",
                body=True,
            ),
        )
    ),
    Route("GET", "/api/recoveries/{recoveryId}", "webhooks", "tenant", "A recovery's progress"),
    Route("POST", "/api/webhook/test", "webhooks", "tenant", "Send a signed webhook.test now", body=True),
    Route("GET", "/api/webhook/logs", "webhooks", "tenant", "List delivery logs"),
    Route("GET", "/api/webhook/logs/{webhookId}", "webhooks", "tenant", "One delivery log with its attempts"),
    Route("POST", "/api/webhook/retry/{webhookId}", "webhooks", "tenant", "Re-queue a delivery now"),
    Route("GET", "/api/webhook/stats", "webhooks", "tenant", "Delivery statistics"),
    Route("DELETE", "/api/webhook/logs", "webhooks", "tenant", "Clear delivery logs", body=True),
    Route("GET", "/api/keys", "admin", "tenant", "The tenant's API keys (never their values)"),
    Route("POST", "/api/keys", "admin", "tenant", "A second API key for the tenant (shown once)", success_status=201),
    Route("DELETE", "/api/keys/{keyId}", "admin", "tenant", "Revoke one of the tenant's API keys"),
    Route("POST", "/api/admin/tenants", "admin", "admin", "Create a tenant", body=True, success_status=201),
    Route("GET", "/api/admin/tenants", "admin", "admin", "List tenants"),
    Route("DELETE", "/api/admin/tenants/{tenantId}", "admin", "admin", "Revoke a tenant"),
    Route(
        "POST",
        "/api/whatsapp/session/{sessionId}/connect-link",
        "connect",
        "tenant",
        "Create a connect link for one session",
        body=True,
        success_status=201,
    ),
    Route(
        "DELETE",
        "/api/whatsapp/session/{sessionId}/connect-link",
        "connect",
        "tenant",
        "Revoke every connect link of one session issued so far",
    ),
    Route(
        "POST",
        "/api/whatsapp/user/{userId}/connect-link",
        "connect",
        "tenant",
        "Create a connect link for one user's sessions",
        body=True,
        success_status=201,
    ),
    Route("GET", "/api/connect/status", "connect", "link", "Status of what a connect link names (Bearer link token)"),
    Route("GET", "/connect/{token}", "connect", "link", "The connect page (HTML)", content_types=("text/html",)),
    Route(
        "GET",
        "/connect/static/{asset}",
        "connect",
        "public",
        "The connect page's script, style and icon",
        content_types=("text/javascript", "text/css", "image/svg+xml"),
    ),
)


@dataclass(frozen=True)
class SocketRoute:
    """A route of the WebSocket API (route key as API Gateway names it) and the function it invokes."""

    route_key: str
    function: str


SOCKET_ROUTES: tuple[SocketRoute, ...] = (
    SocketRoute("$connect", "sockets"),
    SocketRoute("$disconnect", "sockets"),
)
"""The browser only listens: no route for messages it sends (API Gateway answers those itself)."""


class Metric:
    """Custom CloudWatch metrics the handlers emit (namespace POWERTOOLS_METRICS_NAMESPACE); alarms and the
    dashboard are built on these names."""

    EVENTS_RECEIVED = "EventsReceived"
    DUPLICATE_EVENTS = "DuplicateEvents"
    EVENTS_RATE_LIMITED = "EventsRateLimited"
    DELIVERY_SUCCEEDED = "DeliverySucceeded"
    DELIVERY_FAILED = "DeliveryFailed"
    DELIVERY_RETRIED = "DeliveryRetried"
    DELIVERY_DEFERRED = "DeliveryDeferred"
    DELIVERY_UNPARSEABLE = "DeliveryUnparseable"
    DELIVERIES_QUEUED = "DeliveriesQueued"
    COUNTER_WRITES = "CounterWrites"
    PUSHES_SENT = "PushesSent"
    PUSHES_GONE = "PushesGone"
    RECORDS_SET_ASIDE = "StreamRecordsSetAside"
    RECORDS_REPLAYED = "StreamRecordsReplayed"


def table(table_id: str) -> Table:
    return next(t for t in TABLES if t.id == table_id)


def queue(queue_id: str) -> Queue:
    return next(q for q in QUEUES if q.id == queue_id)


def failure_queue(queue_id: str) -> FailureQueue:
    return next(q for q in FAILURE_QUEUES if q.id == queue_id)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def consumers(queue_id: str) -> tuple[Function, ...]:
    """The functions the queue triggers."""
    return tuple(f for f in FUNCTIONS if f.sqs_trigger == queue_id)


def visibility_timeout_s(spec: Queue) -> int:
    """The queue's visibility timeout: `visibility_factor` times its slowest consumer's timeout (30 s without one)."""
    return spec.visibility_factor * max((f.timeout_s for f in consumers(spec.id)), default=30)
