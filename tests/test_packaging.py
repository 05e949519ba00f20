"""The install is one list of dependencies (pyproject.toml), pinned once (constraints.txt).

environment.yml (conda / Binder) must install the same thing; these tests fail if the
three files drift apart, or if ``import celib`` starts pulling in torch or matplotlib.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENV = yaml.safe_load((ROOT / "environment.yml").read_text())


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt line {line!r} is not an exact pin"
        pins[canonicalize_name(name)] = version
    return pins


def direct_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    return [r for r in reqs if canonicalize_name(r.name) != "celib"]


def pip_section() -> list[str]:
    for dep in ENV["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            return dep["pip"]
    raise AssertionError("environment.yml has no pip section")


def test_every_direct_dependency_is_pinned_within_its_range():
    pins = constraints()
    for req in direct_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_book_toolchain_pins():
    pins = constraints()
    assert pins["jupyter-book"] == "1.0.4.post1", "Jupyter Book 2 ignores _config.yml/_toc.yml"
    assert pins["torch"] == "2.13.0", "an unpinned torch pulls a multi-GB CUDA build"


def test_environment_yml_installs_the_pinned_project():
    pip = pip_section()
    assert "-c constraints.txt" in pip, "environment.yml must use the same pins as the Makefile"
    editable = [line for line in pip if line.startswith("-e .")]
    assert len(editable) == 1, "environment.yml must install this project (pip: -e .[...])"
    extras = re.fullmatch(r"-e \.\[([\w,]+)\]", editable[0]).group(1).split(",")
    known = PYPROJECT["project"]["optional-dependencies"]
    for extra in extras:
        assert extra in known, f"environment.yml asks for extra {extra!r}, not in pyproject"
    others = [line for line in pip if line not in editable and not line.startswith("-c ")]
    assert not others, f"environment.yml lists packages outside pyproject.toml: {others}"
    conda = [d for d in ENV["dependencies"] if isinstance(d, str)]
    assert sorted(d.split("=")[0] for d in conda) == ["pip", "python"], (
        "conda dependencies beyond python and pip would be a second dependency list"
    )


def test_environment_python_satisfies_requires_python():
    python = next(d for d in ENV["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[-1]
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(version + ".0")


def test_makefile_installs_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt" in makefile
    assert "--nbval-lax" not in makefile


@pytest.mark.parametrize("heavy", ["torch", "matplotlib"])
def test_import_celib_is_light(heavy):
    code = f"import sys, celib; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"import celib imported {heavy}"


def test_public_names_resolve():
    import celib

    for name in celib.__all__:
        assert getattr(celib, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        celib.nope  # noqa: B018
