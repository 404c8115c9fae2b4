"""The repo root is a Hugging Face Space: front matter, requirements, packages.txt."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys

from tests.conftest import ROOT

LOCAL = {"apps", "dlcore", "launch", "tests", "bench"}


def front_matter() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must start with the Space front matter"
    block = text.split("---\n", 2)[1]
    out = {}
    for line in block.splitlines():
        if ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip().strip('"')
    return out


def pins(path: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, ver = line.partition("==")
            assert ver, f"{path}: {line!r} is not an exact pin"
            out[md_norm(name)] = ver
    return out


def md_norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_front_matter_is_a_valid_space_card():
    fm = front_matter()
    assert fm["sdk"] == "gradio"
    assert fm["app_file"] == "launch.py"
    assert fm["sdk_version"] == pins("requirements.txt")["gradio"]
    assert fm["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert fm.get("license")
    assert fm.get("title")


def test_requirements_are_exact_pins_with_matching_torch_and_torchvision():
    req = pins("requirements.txt")
    assert req["torch"] == "2.14.1" and req["torchvision"] == "0.29.1"
    for pkg in ("gradio", "transformers", "captum", "matplotlib"):
        assert pkg in req
    # The asset packages must never be in requirements.txt (their deps pull a second torch).
    assets = pins("requirements-assets.txt")
    assert not set(assets) & set(req)


def test_packages_txt_lists_the_debian_packages():
    runtime = (ROOT / "packages.txt").read_text().split()
    assert {"dataset-fashion-mnist", "fonts-wqy-microhei", "fonts-noto-color-emoji"} <= set(runtime)
    # Chromium is for the browser test only: not installed into the Space.
    assert "chromium" not in runtime
    dev = [w for line in (ROOT / "packages-dev.txt").read_text().splitlines()
           if not line.startswith("#") for w in line.split()]
    assert "chromium" in dev


def _closure(roots: set[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for r in reqs:
            if "extra ==" in r:
                continue
            todo.append(md_norm(re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0]))
    return seen


def app_imports() -> dict[str, str]:
    """Top-level module -> first file that imports it, for launch.py, apps/ and dlcore/."""
    files = [ROOT / "launch.py", *sorted((ROOT / "apps").rglob("*.py")), *sorted((ROOT / "dlcore").rglob("*.py"))]
    found: dict[str, str] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                found.setdefault(n.split(".")[0], str(f.relative_to(ROOT)))
    return found


def test_every_app_import_resolves_from_requirements_txt():
    provided = _closure(set(pins("requirements.txt")))
    dists = md.packages_distributions()
    missing = []
    for mod, where in app_imports().items():
        if mod in sys.stdlib_module_names or mod in LOCAL:
            continue
        owners = {md_norm(d) for d in dists.get(mod, [])}
        if not owners & provided:
            missing.append(f"{mod} (imported in {where}; from {sorted(owners) or 'no installed package'})")
    assert not missing, "imports not provided by requirements.txt: " + "; ".join(missing)
