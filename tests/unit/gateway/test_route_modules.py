"""One route module per service the gateway fronts: what several of them share (the
village path, region-scoped listings) lives in routes/common.py, so a module never
imports another service's route module, nor a private name of any module (a new
service's routes would copy that import)."""
import ast
from pathlib import Path

import services.gateway.routes as routes

FOLDER = Path(routes.__file__).parent
# a route module may split its answer schemas into <module>_answers.py, its own
OWN = "_answers"


def relative_imports(path):
    """(module, name) of every `from .module import name` in a route module."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                yield node.module, alias.name


def test_route_modules_share_through_common_only():
    wrong = []
    for path in sorted(FOLDER.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for module, name in relative_imports(path):
            if module not in ("common", path.stem + OWN) or name.startswith("_"):
                wrong.append(f"{path.name}: from .{module} import {name}")
    assert wrong == []
