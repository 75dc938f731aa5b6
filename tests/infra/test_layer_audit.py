"""The layer audit (infra/layer_audit.py) catches each way a layer can differ from what Lambda must run:
fabricated layers, one fault at a time (the real layer is audited in test_bundling.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import layer_audit

LOCK = {"pydantic-core": "2.50.4", "requests": "2.34.2"}
ARM_CP313 = "cp313-cp313-manylinux_2_17_aarch64"
ELF_AARCH64 = b"\x7fELF" + bytes(14) + (183).to_bytes(2, "little")
ELF_X86_64 = b"\x7fELF" + bytes(14) + (62).to_bytes(2, "little")


def add_dist(site: Path, name: str, version: str, *tags: str, folder: str | None = None) -> None:
    info = site / f"{folder or name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags))


def good_layer(site: Path) -> Path:
    add_dist(site, "pydantic_core", "2.50.4", ARM_CP313)
    add_dist(site, "requests", "2.34.2", "py3-none-any")
    (site / "pydantic_core").mkdir()
    (site / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").write_bytes(ELF_AARCH64)
    return site


def test_a_layer_matching_the_lock_passes(tmp_path):
    assert layer_audit.audit(good_layer(tmp_path), LOCK, imported={"requests"}) == []


@pytest.mark.parametrize(
    "fault,expected",
    [
        (lambda s: add_dist(s, "pytest", "9.2.0", "py3-none-any"), "pytest==9.2.0: in the layer but not in the lock"),
        (
            lambda s: add_dist(s, "Requests", "2.34.2", "py3-none-any", folder="Requests-dup"),
            "requests: installed 2 times",
        ),
        (
            lambda s: (s / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").write_bytes(ELF_X86_64),
            "not an aarch64 shared object",
        ),
    ],
    ids=["dev-package", "duplicate", "x86-so"],
)
def test_each_extra_fault_is_reported(tmp_path, fault, expected):
    site = good_layer(tmp_path)
    fault(site)
    problems = layer_audit.audit(site, LOCK)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "version,tag,expected",
    [
        ("2.50.3", ARM_CP313, "pydantic-core: layer has 2.50.3, lock says 2.50.4"),
        ("2.50.4", "cp311-cp311-manylinux_2_17_x86_64", "pydantic-core: built for cp311"),
        ("2.50.4", "cp313-cp313-manylinux_2_17_x86_64", "pydantic-core: built for"),
        ("2.50.4", "cp311-cp311-manylinux_2_17_aarch64", "pydantic-core: built for"),
        ("2.50.4", "cp313-cp313-macosx_11_0_arm64", "pydantic-core: built for"),
    ],
    ids=["wrong-version", "host-wheel", "x86", "cp311", "macos"],
)
def test_wrong_version_or_platform_is_reported(tmp_path, version, tag, expected):
    add_dist(tmp_path, "pydantic_core", version, tag)
    add_dist(tmp_path, "requests", "2.34.2", "py3-none-any")
    problems = layer_audit.audit(tmp_path, LOCK)
    assert any(p.startswith(expected) for p in problems), problems


def test_missing_locked_or_imported_distribution_is_reported(tmp_path):
    add_dist(tmp_path, "requests", "2.34.2", "py3-none-any")
    problems = layer_audit.audit(tmp_path, LOCK, imported={"requests", "aws-lambda-powertools"})
    assert "pydantic-core==2.50.4: locked but not in the layer" in problems
    assert "aws-lambda-powertools: imported by the code but not in the layer" in problems


def test_abi3_and_pure_wheels_fit_lambda():
    assert layer_audit.tag_fits_lambda("cp39-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64")
    assert layer_audit.tag_fits_lambda("py2.py3-none-any")
    assert not layer_audit.tag_fits_lambda("cp314-abi3-manylinux_2_17_aarch64")
    assert not layer_audit.tag_fits_lambda("cp313-cp313-musllinux_1_2_aarch64")


def test_imported_distributions_maps_modules_to_distributions(tmp_path):
    (tmp_path / "handler.py").write_text(
        "import json\nimport hub.platform.http\nfrom boto3.dynamodb import types\nfrom . import sibling\nimport pydantic\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import pytest\n")
    assert layer_audit.imported_distributions([tmp_path], own=("hub",)) == {"boto3", "pydantic"}
    (tmp_path / "more.py").write_text("import not_installed_anywhere\n")
    with pytest.raises(LookupError):
        layer_audit.imported_distributions([tmp_path], own=("hub",))
