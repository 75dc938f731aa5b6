"""cdk-nag (AwsSolutions, as a validation plugin) and cfn-lint on the synthesized templates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("variant", ["hub", "hub_dev"])
def test_aws_solutions_checks_pass(variant, request):
    synth = request.getfixturevalue(variant)
    assert synth.error is None, f"cdk-nag findings, see {synth.outdir / 'validation-report.json'}"
    (report,) = [r for r in synth.validation_report()["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    for suppressed in report["suppressedViolations"]:
        assert suppressed["reason"].strip(), suppressed["ruleName"]


@pytest.mark.parametrize("variant", ["hub", "hub_dev"])
def test_every_acknowledgment_has_a_reason_and_is_used(variant, request):
    synth = request.getfixturevalue(variant)
    acks = synth.stack.nag_acknowledgments
    assert acks
    (report,) = [r for r in synth.validation_report()["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    used = {(s["acknowledgedAt"], s["acknowledgedId"]) for s in report["suppressedViolations"]}
    for path, rule_id, reason in acks:
        assert reason.strip() and "\n" not in reason, rule_id
        assert (path, rule_id) in used, f"stale acknowledgment {rule_id} at {path}"


def _cfn_lint() -> list[str]:
    exe = Path(sys.executable).parent / "cfn-lint"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cfnlint"]


def test_cfn_lint(hub, hub_dev):
    # One run over both templates (cfn-lint's start-up is most of its time). W3005
    # (redundant DependsOn) comes from CDK's own output and is ignored explicitly.
    proc = subprocess.run(
        [*_cfn_lint(), "--ignore-checks", "W3005", "--", str(hub.template_path), str(hub_dev.template_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
