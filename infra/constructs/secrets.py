"""Secrets the stack generates (the operator key, the connect-link signing key)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


def generated_secret(
    scope: Construct, id: str, *, description: str, length: int, removal_policy: RemovalPolicy
) -> secretsmanager.Secret:
    """A random secret CloudFormation generates: never in the template, and with no fixed name, so a stage
    re-created after `cdk destroy` never collides with a retained secret of the previous one (find it by the
    stack's outputs)."""
    return secretsmanager.Secret(
        scope,
        id,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=length,
            exclude_punctuation=True,
            include_space=False,
        ),
        removal_policy=removal_policy,
    )
