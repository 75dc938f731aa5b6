"""Secrets Manager: the versions of the connect-link signing secret (hub.connect.links caches and uses them)."""

from __future__ import annotations

import boto3


def versions(secret_arn: str) -> list[str]:
    """[previous, current] values of the secret (previous only after a rotation), as Secrets Manager holds them."""
    secrets = boto3.client("secretsmanager")  # read once per SECRET_MAX_AGE_S (hub.connect.links caches the values)
    current = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    try:
        previous = secrets.get_secret_value(SecretId=secret_arn, VersionStage="AWSPREVIOUS")["SecretString"]
    except secrets.exceptions.ResourceNotFoundException:
        previous = None  # never rotated
    return [previous, current] if previous and previous != current else [current]
