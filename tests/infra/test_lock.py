"""One lock for the tests and Lambda: requirements.lock pins every runtime distribution, the test
virtualenv runs exactly those versions, and the layer installs exactly those (test_bundling.py)."""

from __future__ import annotations

import importlib.metadata

import pytest

from infra import lock

from .conftest import REPO_ROOT


def test_lock_agrees_with_requirements():
    """A pin edited in requirements.txt without `make lock` fails here (and `make install` refuses it)."""
    locked = lock.read_lock()
    for name, version in lock.requirement_pins().items():
        assert locked.get(name) == version, f"{name}=={version} in requirements.txt, lock has {locked.get(name)}"


def test_test_environment_runs_the_locked_versions():
    installed = {lock.canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    mismatched = {
        name: (version, installed.get(name))
        for name, version in lock.read_lock().items()
        if installed.get(name) != version
    }
    assert mismatched == {}, "locked vs installed (run `make install`)"


def test_dev_requirements_are_pinned():
    lines = [
        line
        for line in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-r "))
    ]
    for line in lines:
        assert "==" in line, f"dev requirement not pinned: {line!r}"


def test_read_lock_refuses_anything_but_exact_pins(tmp_path):
    bad = tmp_path / "requirements.lock"
    for text in ("boto3>=1.0\n", "boto3==1.0\nBoto3==1.1\n", "-e .\n"):
        bad.write_text(text)
        with pytest.raises(ValueError):
            lock.read_lock(bad)
    bad.write_text("# comment\nBoto3==1.44.5  # trailing\n")
    assert lock.read_lock(bad) == {"boto3": "1.44.5"}


def test_closure_evaluates_markers_and_extras_for_the_target():
    report = {
        "install": [
            {
                "requested": True,
                "requested_extras": ["tracer"],
                "metadata": {
                    "name": "aws_lambda_powertools",
                    "version": "3.37.0",
                    "requires_dist": ["jmespath<2", "aws-xray-sdk<3; extra == 'tracer'", "redis; extra == 'redis'"],
                },
            },
            {
                "requested": True,
                "metadata": {
                    "name": "PynamoDB",
                    "version": "6.1.0",
                    "requires_dist": ["typing-extensions>=4; python_version < '3.13'"],
                },
            },
            {"requested": False, "metadata": {"name": "jmespath", "version": "1.1.0"}},
            {"requested": False, "metadata": {"name": "aws-xray-sdk", "version": "2.15.0"}},
            {"requested": False, "metadata": {"name": "typing_extensions", "version": "4.16.0"}},
        ]
    }
    assert lock.closure(report, lock.TARGET_ENVIRONMENT) == {
        "aws-lambda-powertools": "3.37.0",
        "aws-xray-sdk": "2.15.0",
        "jmespath": "1.1.0",
        "pynamodb": "6.1.0",
    }
    here = {**lock.TARGET_ENVIRONMENT, "python_version": "3.11", "python_full_version": "3.11.7"}
    assert "typing-extensions" in lock.closure(report, here)


REMOVED_IN_PYTHON_313 = frozenset(
    {
        "aifc",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "crypt",
        "imghdr",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
        "lib2to3",
    }
)
"""Standard-library modules Python 3.13 removed (PEP 594, lib2to3): they import on the tests' 3.11 only."""


def test_code_imports_nothing_python_313_removed():
    from infra.layer_audit import imported_modules

    roots = [REPO_ROOT / "functions", REPO_ROOT / "layers" / "hub" / "python"]
    assert imported_modules(roots) & REMOVED_IN_PYTHON_313 == set()


def test_lock_target_is_the_functions_runtime():
    from infra.constructs.functions import ARCHITECTURE, RUNTIME

    assert RUNTIME.name == f"python{lock.PYTHON_VERSION}" == f"python{lock.TARGET_ENVIRONMENT['python_version']}"
    assert ARCHITECTURE.name == "arm64" and lock.PLATFORM.endswith("aarch64")
    assert lock.TARGET_ENVIRONMENT["platform_machine"] == "aarch64"
