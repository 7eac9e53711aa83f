"""The package's shape: layers, no import cycles, no private names across folders."""

import ast
from pathlib import Path

import rfdiff

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "rfdiff"

# each layer may import the layers listed before it (docs/architecture.md)
LAYERS = ["_common", "_model", "_theory", "_finite", "_spectrum", "_timescales", "_phase",
          "_generation", "_validation", "plot", "_report", "cli"]
ALLOWED = {
    "_common": set(),
    "_model": {"_common"},
    "_theory": {"_common", "_model"},
    "_finite": {"_common", "_model"},
    "_spectrum": {"_common", "_model", "_theory"},
    "_timescales": {"_common", "_model", "_theory", "_spectrum"},
    "_phase": {"_common", "_model", "_theory", "_spectrum", "_finite", "_timescales"},
    "_generation": {"_common", "_model", "_spectrum", "_finite", "_timescales"},
    "_validation": {"_common", "_model", "_theory", "_spectrum", "_finite", "_timescales"},
    "plot": {"_common", "_model", "_theory", "_spectrum", "_timescales", "_phase"},
}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield ".".join(parts), path, is_pkg


def _imports(name, path, is_pkg):
    """(target module, imported names) of every relative or rfdiff import in a module."""
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base[:len(base) - (node.level - 1)]
                mod = ".".join(pkg + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("rfdiff"):
                yield mod, [a.name for a in node.names]


MODULES = {name: (path, is_pkg) for name, path, is_pkg in _modules()}


def _folder(mod):
    parts = mod.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and mod in MODULES
                                          and MODULES[mod][1]) else None


def test_no_private_names_across_folders():
    bad = []
    for name, (path, is_pkg) in MODULES.items():
        own = _folder(name)
        for mod, names in _imports(name, path, is_pkg):
            target = _folder(mod) if mod in MODULES else _folder(mod.rsplit(".", 1)[0] + ".x")
            if target != own and own is not None:
                bad += [f"{name}: {mod}.{n}" for n in names if n.startswith("_")
                        and not n.startswith("__")]
    assert not bad, bad


def test_layers_import_only_earlier_layers():
    bad = []
    for name, (path, is_pkg) in MODULES.items():
        own = _folder(name)
        if own not in ALLOWED:
            continue
        for mod, _ in _imports(name, path, is_pkg):
            parts = mod.split(".")
            target = parts[1] if len(parts) > 1 else None
            if target and target != own and target in LAYERS and target not in ALLOWED[own]:
                bad.append(f"{name} imports {mod}")
    assert not bad, bad


def test_no_import_cycles_between_modules():
    graph = {}
    for name, (path, is_pkg) in MODULES.items():
        if is_pkg:
            continue  # re-exports of a folder's own modules are not dependencies
        deps = set()
        for mod, names in _imports(name, path, is_pkg):
            for cand in [mod] + [f"{mod}.{n}" for n in names]:
                if cand in MODULES and not MODULES[cand][1] and cand != name:
                    deps.add(cand)
                elif cand in MODULES and MODULES[cand][1]:
                    # importing a folder's __init__ depends on the modules it re-exports
                    deps |= {m for m in MODULES if m.startswith(cand + ".")
                             and not MODULES[m][1] and m.count(".") == cand.count(".") + 1
                             and m != name}
        graph[name] = deps
    state = {}

    def visit(v, stack):
        state[v] = 1
        for w in graph.get(v, ()):
            if state.get(w) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack + [v, w]))
            if not state.get(w):
                visit(w, stack + [v])
        state[v] = 2

    for v in graph:
        if not state.get(v):
            visit(v, [])


def test_examples_use_public_names_only():
    bad = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rfdiff"):
                if any(p.startswith("_") for p in node.module.split(".")) or \
                        any(a.name.startswith("_") for a in node.names):
                    bad.append(f"{path.name}: from {node.module} import ...")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "rfdiff" and node.attr.startswith("_") \
                    and node.attr != "__version__":
                bad.append(f"{path.name}: rfdiff.{node.attr}")
    assert not bad, bad


def test_public_namespace_is_small_and_resolvable():
    assert len(rfdiff.__all__) <= 45
    for name in rfdiff.__all__:
        assert getattr(rfdiff, name) is not None
    for ns in (rfdiff.core, rfdiff.tools, rfdiff.plot):
        for name in ns.__all__:
            assert getattr(ns, name) is not None, (ns.__name__, name)
