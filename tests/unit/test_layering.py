"""Which way imports may point (docs/services.md): shared/ is the library every service
imports, so it imports no service; a service imports another service's modules only
where a documented contract says so (listed below with the reason). Read from the
source with ast, function-level imports included, so nothing needs importing."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (importing service, module of another service) -> why it may
ALLOWED = {
    ("planning", "services.cycle.template"): "decision 15: the gate mapping, the contract",
    ("planning", "services.cycle.domain"): "decision 15: the cycle's stream name",
    ("audit", "services"): "SERVICES: where the audit discovers projections",
    ("gateway", "services"): "SERVICES: a proxy for every service",
    # docs/services.md: the gateway and OpenAPI reuse each service's schemas
    ("gateway", "services.registration.schemas"): "schemas reused",
    ("gateway", "services.cycle.schemas"): "schemas reused",
    ("gateway", "services.planning.schemas"): "schemas reused",
    ("gateway", "services.planning.content"): "schemas reused: a document kind's sections",
    ("gateway", "services.planning.payloads"): "planning's event catalog (its schemas.py's "
                                               "EVENTS, in a module of its own): the audit "
                                               "history's payloads are documented from it",
    ("gateway", "services.audit.schemas"): "schemas reused",
    ("gateway", "services.registration.rules"): "rule data the API documents",
    ("gateway", "services.planning.rules"): "rule data the API documents",
    ("gateway", "services.registration.views"): "the decision types its answers name",
    ("gateway", "services.audit.bundle_verify"): "a bundle's bytes, as verify-bundle reads",
}


def _modules():
    """Dotted module name -> path, for every module under shared/ and services/."""
    found = {}
    for top in ("shared", "services"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name, path, node, modules):
    """The modules of ours an import statement names (a package: its __init__)."""
    if isinstance(node, ast.Import):
        wanted = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        wanted = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                  for alias in node.names]
    for target in wanted:
        while target and target not in modules:   # `import a.b.c` of a name inside a.b
            target = target.rpartition(".")[0]
        if target:
            yield target


def imports():
    """(importing module, imported module) for every import of ours in shared/, services/."""
    modules = _modules()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(name, path, node, modules):
                    yield name, target


def _service(module):
    """The service package a module is in, or None (shared/, or services/ top level)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 2 else None


def violations(found):
    for importer, imported in found:
        if importer.startswith("shared") and imported.startswith("services"):
            yield f"{importer} imports {imported}: shared/ imports no service"
        own = _service(importer)
        if own and imported.startswith("services") and _service(imported) != own and \
                (own, imported) not in ALLOWED:
            yield f"{importer} imports {imported}: another service's module, not in ALLOWED"


def test_shared_imports_no_service_and_services_only_their_documented_contracts():
    found = list(imports())
    assert ("shared.chassis.platform", "shared.ledger") in found   # the walk sees imports
    assert list(violations(found)) == []


def test_every_allowed_import_is_still_made():
    """An exception nobody needs any more is taken out, not kept as a licence."""
    made = {(_service(importer), imported) for importer, imported in imports()}
    assert set(ALLOWED) - made == set()


def test_a_violation_is_named():
    assert list(violations([("shared.cli.main", "services.audit.cli"),
                            ("services.cycle.views", "services.planning.domain"),
                            ("services.cycle.views", "services.cycle.domain"),
                            ("services.cli", "services.audit.cli")])) == [
        "shared.cli.main imports services.audit.cli: shared/ imports no service",
        "services.cycle.views imports services.planning.domain: another service's module, "
        "not in ALLOWED"]
