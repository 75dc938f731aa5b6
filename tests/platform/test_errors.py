"""The error model (docs/errors.md): every domain exception has its status in the one mapping, keeps its code,
message, details and Retry-After on the way to the envelope, and AWS failures are told from a caller's own."""

from __future__ import annotations

import inspect

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from hub.platform import ddb, errors, exceptions

DOMAIN_EXCEPTIONS = [
    kind
    for _, kind in inspect.getmembers(exceptions, inspect.isclass)
    if issubclass(kind, exceptions.HubError) and kind not in (exceptions.HubError, exceptions.StoreError)
]


@pytest.mark.parametrize("kind", DOMAIN_EXCEPTIONS, ids=lambda kind: kind.__name__)
def test_every_domain_exception_has_its_status_in_the_mapping(kind):
    assert kind in errors.STATUS
    assert errors.status_of(kind("m")) == errors.STATUS[kind]


def test_the_mapping_keeps_what_clients_saw():
    expected = {
        exceptions.Invalid: (400, "VALIDATION_ERROR"),
        exceptions.InvalidCursor: (400, "VALIDATION_ERROR"),
        exceptions.Unauthenticated: (401, "UNAUTHORIZED"),
        exceptions.Forbidden: (403, "FORBIDDEN"),
        exceptions.NotFound: (404, "NOT_FOUND"),
        exceptions.AlreadyExists: (409, "CONFLICT"),
        exceptions.ChangedMeanwhile: (409, "CONFLICT"),
        exceptions.Conflict: (409, "CONFLICT"),
        exceptions.RateLimited: (429, "RATE_LIMITED"),
        exceptions.NotConfigured: (500, "NOT_CONFIGURED"),
        exceptions.Busy: (503, "UNAVAILABLE"),
        exceptions.Unavailable: (503, "UNAVAILABLE"),
    }
    for kind, answer in expected.items():
        error = errors.from_exception(kind("m"))
        assert (error.status, error.code) == answer, kind


def test_an_envelope_carries_the_exceptions_code_message_details_and_retry_after():
    invalid = errors.from_exception(exceptions.Invalid.field("url", "not https", "URL refused"))
    assert invalid.body() == {
        "success": False,
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "URL refused",
            "details": [{"field": "url", "message": "not https"}],
        },
    }
    busy = errors.from_exception(exceptions.Busy("retry in a second", retry_after_s=1))
    assert (busy.status, busy.headers()) == (503, {"Retry-After": "1"})
    expired = errors.from_exception(exceptions.Expired("This link has expired", code="LINK_EXPIRED"))
    assert (expired.status, expired.code) == (410, "LINK_EXPIRED")
    assert exceptions.Expired("x").code == "GONE"  # a finer code is the instance's, never its kind's
    assert errors.from_exception(exceptions.NotFound.of("Session")).message == "Session not found"


def test_a_subclass_answers_as_its_nearest_mapped_ancestor():
    class Unlisted(exceptions.Conflict):
        pass

    assert errors.status_of(Unlisted("m")) == 409


def aws_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_aws_failures_are_told_from_the_callers_own_without_the_sdk():
    assert ddb.is_aws_failure(aws_error("AccessDeniedException"))
    assert ddb.is_aws_failure(EndpointConnectionError(endpoint_url="https://dynamodb"))
    assert ddb.is_aws_failure(exceptions.Busy("m")) and ddb.is_aws_failure(exceptions.AlreadyExists("m"))
    assert not ddb.is_aws_failure(ValueError("bad data")) and not ddb.is_aws_failure(exceptions.Invalid("m"))


def test_transient_failures_are_busy_or_what_aws_says_is_passing():
    assert ddb.is_transient(exceptions.Busy("m"))
    assert ddb.is_transient(aws_error("ThrottlingException"))
    assert ddb.is_transient(aws_error("SomethingNew", status=503))
    assert ddb.is_transient(EndpointConnectionError(endpoint_url="https://dynamodb"))
    assert not ddb.is_transient(aws_error("ValidationException"))
    assert not ddb.is_transient(ParamValidationError(report="bad"))
    assert not ddb.is_transient(exceptions.AlreadyExists("m"))


def test_a_cursor_this_listing_did_not_make_is_an_invalid_cursor():
    with pytest.raises(exceptions.InvalidCursor) as refused:
        ddb.decode_cursor("not-a-cursor!")
    assert errors.from_exception(refused.value).body()["error"]["details"] == [
        {"field": "cursor", "message": "not a cursor of this listing"}
    ]
    assert ddb.decode_cursor(ddb.encode_cursor({"tenantId": {"S": "t"}})) == {"tenantId": {"S": "t"}}
