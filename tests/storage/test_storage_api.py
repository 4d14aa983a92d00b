"""Storage's public API: code outside hub/storage imports only ``hub.storage`` itself."""

from __future__ import annotations

import ast
from pathlib import Path

import hub.storage

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "hub" / "storage"


def _storage_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of hub.storage or a module under it in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = []
            module = next((a.name for a in node.names if a.name.startswith("hub.storage")), "")
        else:
            continue
        if module == "hub.storage" or module.startswith("hub.storage."):
            found.append((node.lineno, module, names))
    return found


def test_code_outside_storage_imports_only_the_public_api() -> None:
    offenders = []
    for folder in ("hub", "plugins", "bench", "integrations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(STORAGE):
                continue
            for line, module, names in _storage_imports(path):
                rel = path.relative_to(ROOT)
                if module != "hub.storage":
                    offenders.append(f"{rel}:{line} imports {module}")
                offenders += [f"{rel}:{line} imports {name}, not in hub.storage.__all__"
                              for name in names if name not in hub.storage.__all__]
    assert not offenders, "\n".join(offenders)


def test_every_public_name_exists() -> None:
    missing = [name for name in hub.storage.__all__ if not hasattr(hub.storage, name)]
    assert not missing
    assert len(set(hub.storage.__all__)) == len(hub.storage.__all__)
