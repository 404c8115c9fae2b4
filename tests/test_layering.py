"""The house's layering: dlcore never loads gradio or apps, has no import cycle, and the app starts
without torch (imported in the background after the page is served)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DLCORE = ROOT / "dlcore"


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for p in DLCORE.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> list[ast.AST]:
    """Every import statement that can run (inside functions too; not under ``if TYPE_CHECKING``)."""
    out: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    """dlcore module -> the dlcore modules it imports (module-level and inside functions)."""
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rpartition(".")[0]
        for node in _imports(ast.parse(p.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                r = resolve(t) if t.startswith("dlcore") else None
                if not r or r == m:
                    continue
                graph[m].add(r)
                # importing dlcore.a.b also runs dlcore/a/__init__.py (unless m lives inside dlcore.a)
                parts = r.split(".")
                for k in range(2, len(parts)):
                    pkg_k = ".".join(parts[:k])
                    if pkg_k in mods and not (m == pkg_k or m.startswith(pkg_k + ".")):
                        graph[m].add(pkg_k)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_dlcore_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], f"import cycles in dlcore (including imports inside functions): {found}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_dlcore_never_imports_gradio_or_apps() -> None:
    """Static: no import of gradio/apps anywhere in dlcore; dynamic: importing every dlcore
    module in a fresh interpreter leaves gradio unloaded."""
    bad = []
    for name, p in _modules().items():
        for node in _imports(ast.parse(p.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            bad += [f"{name}: {n}" for n in names if n.split(".")[0] in ("gradio", "gradio_client", "apps")]
    assert bad == []
    mods = sorted(m for m in _modules() if not m.endswith("__main__"))
    code = ("import importlib, sys\n"
            f"for m in {mods!r}:\n    importlib.import_module(m)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('gradio', 'gradio_client', 'apps')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_building_the_app_imports_no_torch() -> None:
    """Start-up: the page is served before torch, transformers or scikit-learn are imported; the
    warm-up thread imports them afterwards (issue 10: cold start)."""
    code = ("import sys, launch\n"
            "launch.build_demo()\n"
            "heavy = [m for m in ('torch', 'transformers', 'sklearn', 'scipy', 'sympy', 'captum', 'torchvision',"
            " 'networkx', 'torch_geometric')"
            " if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_every_app_module_is_wiring_sized():
    """Issue 10: the maths lives in dlcore, so every apps/*.py is wiring only and at most 350 lines
    (a big tab splits into apps/<tab>_<panel>.py)."""
    long = {p.name: n for p in sorted((ROOT / "apps").glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 350}
    assert not long, f"apps modules over 350 lines (split them into panels): {long}"
