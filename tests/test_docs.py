"""The README and docs/contract.md document every declared route and setting (one definition, documented once),
and the repository cites only documents it holds."""

import re
import subprocess
from pathlib import Path

import pytest

from hub.platform import catalog, settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_in_the_routes_table(route):
    assert f"| {route.method} | {route.path} |" in README


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.env_var)
def test_every_setting_is_documented(setting):
    assert f"`{setting.env_var}`" in README


SETTINGS_ROW = re.compile(r"^\| `(?P<name>[A-Z_0-9]+)` \| (?P<default>[^|]*) \|", re.MULTILINE)


@pytest.mark.parametrize("setting", [s for s in settings.SETTINGS if s.default], ids=lambda s: s.env_var)
def test_settings_table_gives_the_models_default(setting):
    """The README's settings table states each default the settings model declares (hub.platform.settings)."""
    rows = {m["name"]: m["default"].strip().strip("`") for m in SETTINGS_ROW.finditer(README)}
    assert rows.get(setting.env_var) == setting.default


# ---- The repository carries its own documents: no citation of a document it does not hold, no dead link.

ROOT = Path(__file__).resolve().parent.parent

OUTSIDE_CITATION = re.compile(
    r"\bSPEC(?:\.md\b|\s+sections?\s|\s*§|\s+`)"  # the product specification, by section or field
    r"|(?i:\bseeds?\s+\d{3}\b|\bseeds?\s+documents?\b|\bseeds/\d{3}_[0-9a-f]+\.txt)"  # its example documents
    r"|(?:\.\./|/work/)shared\b"  # anything beside the repository
)
DOC_PATH = re.compile(r"(?<![\w./-])docs/([\w.-]+\.(?:md|json))(?:#([\w-]+))?")
CONTRACT_SECTIONS = re.compile(r"docs/contract\.md((?:,?\s*§\d+(?:\.\d+)?)+)")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
GATEWAY_NOTES = ROOT / "tests" / "fixtures" / "dialects"
"""Notes on each gateway's sources: their `docs/...` paths are files of the gateways' own repositories."""
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".sh", ".mk", ""}


UNTRACKED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "cdk.out",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
}


def tracked_files() -> list[Path]:
    """The repository's text files: git's list, or (outside a git checkout) every file but tool and build folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        paths = [ROOT / name for name in listed.decode("utf-8").split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not UNTRACKED_DIRS & set(p.relative_to(ROOT).parts)]
    return [p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file() and not p.is_symlink()]


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    text = markdown.read_text(encoding="utf-8")
    found = {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)}
    return found | set(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))


def contract_sections() -> set[str]:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4}\s+(\d+(?:\.\d+)?)\.?\s", text, re.MULTILINE))


def outside_citations(text: str) -> list[str]:
    return [m.group(0) for m in OUTSIDE_CITATION.finditer(text)]


def _target_problem(target: Path, anchor: str | None, shown: str) -> str | None:
    if not target.is_file():
        return f"{shown}: no such file"
    if anchor and target.suffix == ".md" and anchor not in anchors(target):
        return f"{shown}: no such anchor"
    return None


def broken_links(source: Path, text: str) -> list[str]:
    """Every reference in `text` (written in `source`) to a docs/ file, anchor or contract section that does not exist."""
    problems = []
    for m in DOC_PATH.finditer(text) if GATEWAY_NOTES not in source.parents else ():
        problems.append(_target_problem(ROOT / "docs" / m.group(1), m.group(2), m.group(0)))
    sections = contract_sections()
    for m in CONTRACT_SECTIONS.finditer(text):
        problems += [
            f"docs/contract.md §{n}: no such section"
            for n in re.findall(r"§(\d+(?:\.\d+)?)", m.group(1))
            if n not in sections
        ]
    if source.suffix == ".md":
        for m in MARKDOWN_LINK.finditer(text):
            link = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE):
                continue  # http:, https:, mailto: ...
            path, _, anchor = link.partition("#")
            target = (source.parent / path).resolve() if path else source
            problems.append(_target_problem(target, anchor or None, f"]({link})"))
    return [p for p in problems if p]


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_in_the_contract(route):
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert f"| {route.method} | {route.path} |" in contract


def test_nothing_cites_a_document_outside_the_repository():
    found = {}
    for path in tracked_files():
        hits = outside_citations(path.read_text(encoding="utf-8", errors="replace"))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}, "cite docs/contract.md or docs/decisions.md instead"


def test_every_link_to_docs_resolves():
    found = {}
    for path in tracked_files():
        if path == Path(__file__).resolve():
            continue  # the examples below are broken on purpose
        problems = broken_links(path, path.read_text(encoding="utf-8", errors="replace"))
        if problems:
            found[str(path.relative_to(ROOT))] = problems
    assert found == {}


def test_the_contract_has_the_sections_the_code_cites():
    assert {"2", "3", "4", "5", "6", "6.3", "7", "8"} <= contract_sections()
    assert "acks-follow-the-library" in anchors(ROOT / "docs" / "decisions.md")


@pytest.mark.parametrize(
    "text",
    [
        "The error envelope of SP" + "EC section 2.",
        "(SP" + "EC sections 4, 5)",
        "SP" + "EC §3 rules",
        "Delivery logs (SP" + "EC `webhookId`)",
        "as seed" + " 004 does",
        "(seeds" + " 001, 002)",
        "taken from the seed" + " documents",
        "see ../sha" + "red/SP" + "EC.md",
    ],
)
def test_an_outside_citation_is_caught(text):
    assert outside_citations(text)


@pytest.mark.parametrize(
    "text",
    [
        "random.seed(0); hypothesis seed",
        "seeds/000_connected.json",
        "spec: catalog.Function",
        "docs/contract.md §5",
    ],
)
def test_ordinary_words_are_not_citations(text):
    assert outside_citations(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "see docs/contract.md §99",
        "see docs/contract.md §5, §42",
        "see docs/no-such-page.md",
        "see docs/decisions.md#no-such-decision",
        "[contract](docs/contract.md#99-nothing)",
        "[gone](docs/gone.md)",
        "[here](#no-such-heading)",
    ],
)
def test_a_broken_link_is_caught(text):
    assert broken_links(ROOT / "README.md", text)


def test_a_good_link_passes():
    text = (
        "docs/contract.md §5, §6.3 and docs/decisions.md#session-ids-are-the-tenants-own, "
        "[state](docs/contract.md#5-session-state), [schemas](docs/openapi.json), [top](#routes)"
    )
    assert broken_links(ROOT / "README.md", text) == []


# ---- The documents cite code and tests that exist: docs/architecture.md maps each behaviour to a module and a test.

CODE_PATH = re.compile(r"(?<![\w./<>-])((?:[\w.-]+/)+[\w.-]+\.py)(?:::(\w+))?")
"""A cited Python file, `dir/module.py`, optionally with a test in it: `tests/x/test_y.py::test_z`."""
LAYER = ROOT / "layers" / "hub" / "python"
"""Where `hub/...` paths (the layer's import paths) resolve."""
CITING_DOCUMENTS = ("README.md", "bench/README.md", "infra/README.md", "docs/*.md")


def missing_code(source: Path, text: str) -> list[str]:
    """Every `path.py` (or `path.py::test_name`) in `text` that names no file, or no such function in the file.

    A path resolves from the repository's root, from the citing document's folder, or (`hub/...`) from the layer."""
    problems = []
    for m in CODE_PATH.finditer(text):
        path, function = m.group(1), m.group(2)
        target = next((c for c in (ROOT / path, source.parent / path, LAYER / path) if c.is_file()), None)
        if target is None:
            problems.append(f"{m.group(0)}: no such file")
        elif function and not re.search(rf"^\s*(?:async\s+)?def {function}\(", target.read_text(), re.MULTILINE):
            problems.append(f"{m.group(0)}: no such function")
    return problems


def test_the_architecture_page_maps_behaviours_to_modules_and_tests():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    cited = [m.group(1) for m in CODE_PATH.finditer(text)]
    assert any(p.startswith("layers/hub/python/hub/") for p in cited)
    assert any(p.startswith("tests/") for p in cited)


def test_every_cited_module_and_test_exists():
    documents = sorted({p for pattern in CITING_DOCUMENTS for p in ROOT.glob(pattern)})
    found = {}
    for path in documents:
        problems = missing_code(path, path.read_text(encoding="utf-8"))
        if problems:
            found[str(path.relative_to(ROOT))] = problems
    assert found == {}


@pytest.mark.parametrize(
    "text",
    [
        "`layers/hub/python/hub/no_such_module.py`",
        "logic in hub/ingest/gone.py",
        "`tests/ingest/test_receiver.py::test_no_such_test`",
        "`tests/no_such_folder/test_x.py`",
    ],
)
def test_a_missing_module_or_test_is_caught(text):
    assert missing_code(ROOT / "docs" / "architecture.md", text)


def test_existing_modules_and_tests_pass():
    text = (
        "`layers/hub/python/hub/ingest/state.py`, hub/delivery/worker.py, `constructs/api.py` (from infra/README.md), "
        "`tests/ingest/test_state.py::test_any_arrival_order_gives_the_time_order_state`"
    )
    assert missing_code(ROOT / "infra" / "README.md", text) == []
