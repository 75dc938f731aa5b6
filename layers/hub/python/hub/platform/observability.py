"""Logger and metrics shared by every handler (Powertools, configured by environment).

The X-Ray tracer is created by the handlers that want it (`make_tracer()`): importing the
X-Ray SDK costs about 140 ms of cold start, which the receiver does not pay. Its
invocations are still traced by Lambda's active tracing.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from hub.platform import settings

SERVICE = settings.env("POWERTOOLS_SERVICE_NAME")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=settings.env("POWERTOOLS_METRICS_NAMESPACE"), service=SERVICE)


def make_tracer():
    """A Powertools Tracer (imports the X-Ray SDK)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)
