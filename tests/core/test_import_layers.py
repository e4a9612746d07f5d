"""Dependencies point one way: down the layers, in the order data flows.

    core        accounts, the acting-user context and database roles, the live-feed
                publisher, health and hook registries, advisory-lock numbers
    lake        what is stored: records, the normalizer, the writer, imports, uploads
    privacy     what guards it: PII scan and masks (filling the lake's hooks),
                policies, audit, export, delete
    stream      what arrives live: ingest, webhooks, devices, the outbound client
    connectors  one client per provider, syncing through stream and lake
    analytics   what is read from it: aggregates, search, maps, geofences
    ops         backups and operations on top of all of it
    datapunk    the project: settings, urls, asgi, celery

A module may import its own layer and the layers below it, never one above:
a lower layer that needs something from a higher one offers a hook or a
signal and the higher one fills it (apps/lake/hooks.py, apps/core/feed.py,
apps/core/health.py, apps/core/signals.py). Every module is scanned, migrations and
imports under TYPE_CHECKING included, and there is no list of exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "lake", "privacy", "stream", "connectors", "analytics", "ops", "datapunk"]


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "datapunk":
        return "datapunk"
    if parts[0] == "apps":
        # apps/__init__.py holds nothing and sits with the ground floor.
        return parts[1] if len(parts) > 1 else "core"
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from apps import lake`` names a layer in the alias.
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "apps" else [base]
            found += [(node.lineno, name) for name in names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _modules() -> list[Path]:
    return sorted([*(ROOT / "apps").rglob("*.py"), *(ROOT / "datapunk").rglob("*.py")])


def test_every_app_has_a_layer():
    apps = {path.name for path in (ROOT / "apps").iterdir() if (path / "__init__.py").exists()}
    assert apps == set(LAYERS) - {"datapunk"}


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in _modules():
        own = _layer_of(_module_name(path))
        assert own in LAYERS, path
        for line, name in _imported(path):
            target = _layer_of(name)
            if target is not None and LAYERS.index(target) > LAYERS.index(own):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {name} ({target})")
    assert upward == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from apps.privacy.rls import rls_apply", "apps.privacy.rls"),
        ("import apps.ops.selectors", "apps.ops.selectors"),
        ("from apps import analytics", "apps.analytics"),
        ("from ..privacy import audit", "apps.privacy"),
        ("if TYPE_CHECKING:\n    from apps.stream.models import Device", "apps.stream.models"),
        ("def f():\n    from datapunk.celery import app", "datapunk.celery"),
        ("import_module('apps.analytics.tasks')", "apps.analytics.tasks"),
    ],
)
def test_the_scan_sees_every_form_of_import(tmp_path, monkeypatch, source, expected):
    # The scanner itself, on a module placed at apps/lake/probe.py.
    module = tmp_path / "apps" / "lake" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(source + "\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert expected in [name for _, name in _imported(module)]
