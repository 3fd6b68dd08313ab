"""The code's structure (docs/architecture.md, "Layers"): no import circles between the project's
modules, and no module imports a layer above its own. A module-level import only: a function-local
import of a heavy optional package (torch, sentence-transformers) is allowed, and one of the
project's own modules inside a function would hide a circle, so those count too."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# lowest first; a module may import its own layer and the layers before it
LAYERS = [
    ("base", ["demo.errors", "demo.settings", "demo.inputs", "demo.csvsafe", "demo.keep", "demo.hubaccess",
              "demo.budget", "demo.upload", "demo.diskstate", "demo.sweeper"]),
    ("data", ["demo.data"]),
    ("metrics", ["demo.metrics", "demo.evaluation", "demo.conventions"]),
    ("engine", ["demo.engine", "demo.cache", "demo.devices"]),
    ("retrievers", ["demo.retrievers", "demo.runs", "demo.trec", "demo.inspection", "demo.notes"]),
    ("artifacts", ["demo.artifacts"]),
    ("service", ["demo.service"]),
    ("views", ["demo.plots", "demo.plot_style", "demo.tour", "demo.significance", "demo.published",
               "demo.compare", "demo.compare_report"]),
    ("interfaces", ["demo.ui", "demo.cli", "demo.__main__", "demo"]),
]


def layer_of(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    assert best is not None, f"{module} is in no layer: add it to LAYERS (and docs/architecture.md)"
    return best[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules a file imports (anywhere in it). `from package import module` imports
    the module, not the package's __init__."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = subs if all(n in modules for n in subs) else [node.module] + subs
        else:
            continue
        out.update(n for n in names if n == "demo" or n.startswith("demo."))
    return out


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / "demo").rglob("*.py")}
    out = {}
    for name, path in files.items():
        found = set()
        for imp in imports(path, set(files)):
            while imp not in files and "." in imp:  # `from demo.x import name`: the module is demo.x
                imp = imp.rsplit(".", 1)[0]
            if imp in files and imp not in (name, "demo"):  # a namespace package resolves to nothing
                found.add(imp)
        out[name] = found
    return out


def test_no_import_circles():
    g = graph()
    state, stack, cycles = {}, [], []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for m in sorted(g[n]):
            if m == "demo" or n == "demo":  # the package's __init__ imports nothing that imports it back
                continue
            if state.get(m) == "open":
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = "done"
    for n in sorted(g):
        if n not in state:
            visit(n)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
              for a, deps in graph().items() for b in deps if layer_of(b) > layer_of(a)]
    assert not upward, "\n".join(upward)


def test_the_checks_can_fail():
    """The graph sees imports inside functions and resolves `from package import module`."""
    g = graph()
    assert "demo.engine" in g["demo.service.rankings"]
    assert layer_of("demo.ui.render") > layer_of("demo.service.compare") > layer_of("demo.engine")


def test_code_cites_the_repository_not_an_outside_document():
    outside = "DESIGN " + "\u00a7"  # spelt so that this file does not cite it either
    cited = [f"{p.relative_to(ROOT)}:{i}" for p in list((ROOT / "demo").rglob("*.py")) + [ROOT / "app.py"]
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if outside in line]
    assert not cited, "cite docs/architecture.md instead: " + ", ".join(cited[:10])
