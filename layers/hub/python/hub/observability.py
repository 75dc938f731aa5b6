"""Logger, tracer and metrics shared by every handler (Powertools, configured by environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from hub import settings

logger = Logger(service=settings.env("POWERTOOLS_SERVICE_NAME"))
tracer = Tracer(service=settings.env("POWERTOOLS_SERVICE_NAME"))
metrics = Metrics(namespace=settings.env("POWERTOOLS_METRICS_NAMESPACE"), service=settings.env("POWERTOOLS_SERVICE_NAME"))
