"""The shape of the code, checked: no import cycle, data flowing one way through the layers of
docs/architecture.md, pure parts kept pure, modules of one concept (at most 500 lines).

Every import counts: at the top, inside functions and under TYPE_CHECKING alike, because a
cycle a type checker or a later refactor follows is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"veilcam": ROOT / "daemon", "veilcam_native": ROOT / "native"}
MAX_LINES = 500

# The layers of the daemon, lowest first, along the data flow (source -> redact -> store ->
# analyse -> notify -> the people's interfaces). A part may import its own layer's modules
# only within itself, and any lower layer.
LAYERS: list[set[str]] = [
    {"__init__", "errors"},  # the foundation: small modules every part uses
    {"durations", "events", "tasks"},
    {"clock", "retention", "certificate"},
    {"health"},
    {"config"},
    {"store"},
    {"sensors", "vision", "control"},
    {"redaction"},
    {"capture"},
    {"alerts"},
    {"coldchain", "stock", "accounts", "tokens", "privacy", "renewal"},
    {"research", "faces"},  # studies and the face features run under the privacy gates
    {"field", "fleet"},  # the technician's checks and console; the chain's broker
    {"runtime"},
    {"web", "console"},  # the people's interfaces: browser and serial line
    {"demo"},  # what a person runs
    {"cli"},
    {"__main__"},
]
FOUNDATION = set().union(*LAYERS[:4])
# Parts that must stay pure computation, or must never reach a picture's pixels.
ONLY = {"vision": FOUNDATION}  # frames in, detections out: no storage, no config, no services
NEVER = {"web": {"capture", "redaction", "vision"}}  # the web UI never touches a raw frame


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = modules()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports(name: str) -> Iterator[str]:
    """Every veilcam module ``name`` imports, as the module imported (a submodule named in a
    ``from package import submodule`` counts as that submodule)."""
    tree = ast.parse(MODULES[name].read_text())
    base = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.split(".")[: len(base.split(".")) - node.level + 1]
                module = ".".join(parent + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(imports(name)) for name in MODULES}


def part(name: str) -> str:
    """The top-level part of the daemon a module belongs to (``capture`` for
    ``veilcam.capture.sources.av``)."""
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def layer(p: str) -> int:
    return next(i for i, parts in enumerate(LAYERS) if p in parts)


def test_every_part_has_a_layer() -> None:
    parts = {part(m) for m in MODULES if m.startswith("veilcam.") or m == "veilcam"}
    missing = sorted(p for p in parts if not any(p in layer_ for layer_ in LAYERS))
    assert not missing, (
        f"add these parts of veilcam to LAYERS (and docs/architecture.md): {missing}"
    )


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles() == []


def test_the_walk_sees_a_cycle_where_there_is_one() -> None:
    """The checker itself: a cycle made of in-function and TYPE_CHECKING imports counts."""
    saved = {k: set(v) for k, v in GRAPH.items()}
    try:
        GRAPH["veilcam.errors"].add("veilcam.clock")
        GRAPH["veilcam.clock"].add("veilcam.errors")
        assert ["veilcam.clock", "veilcam.errors"] in cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_native_knows_nothing_of_the_daemon() -> None:
    wrong = [
        (m, t)
        for m, targets in GRAPH.items()
        if m.startswith("veilcam_native")
        for t in targets
        if not t.startswith("veilcam_native")
    ]
    assert wrong == []


def test_data_flows_one_way_through_the_layers() -> None:
    wrong = []
    for m, targets in GRAPH.items():
        if not (m == "veilcam" or m.startswith("veilcam.")):
            continue
        here = part(m)
        for t in targets:
            if not (t == "veilcam" or t.startswith("veilcam.")):
                continue
            there = part(t)
            if there == here:
                continue
            if layer(there) >= layer(here):
                wrong.append(f"{m} ({here}) imports {t} ({there})")
            if here in ONLY and there not in ONLY[here]:
                wrong.append(f"{m}: {here} may not import {there}")
            if there in NEVER.get(here, set()):
                wrong.append(f"{m}: {here} must never import {there}")
    assert wrong == []


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for folder in PACKAGES.values()
        for p in [*folder.rglob("*.py"), *folder.rglob("*.pyx"), *folder.rglob("*.h")]
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_modules_hold_one_concept(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by concept"
