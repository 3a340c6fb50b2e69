"""What a wheel carries besides the code: the type stub matches the compiled module, the version has
one source, the license ships, only the module's init function is exported, and a build is portable
unless asked otherwise."""
import ast
import importlib.metadata
import os
import re
import shutil
import subprocess

import pytest

import fitcore as fc
from fitcore import _core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.dirname(os.path.abspath(fc.__file__))


def _public(names):
    return {n for n in names if not n.startswith("_")}


def _stub_tree():
    with open(os.path.join(PACKAGE, "_core.pyi")) as f:
        return ast.parse(f.read())


def test_stub_names_every_class_function_and_method_of_the_module():
    tree = _stub_tree()
    stub_top = _public(node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef)))
    assert stub_top == _public(dir(_core)) - {"annotations"}, "run tools/make-stub after changing the bindings"
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stub_members = {m.name for m in node.body if isinstance(m, ast.FunctionDef)}
            assert stub_members - {"__init__"} == _public(vars(getattr(_core, node.name))), node.name


def test_package_is_marked_typed():
    assert os.path.isfile(os.path.join(PACKAGE, "py.typed"))


def test_version_has_one_source():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        pyproject = f.read()
    assert re.search(r'^dynamic = \["version"\]', pyproject, re.M)
    assert not re.search(r'^version\s*=', pyproject, re.M)
    assert 'input = "python/fitcore/__init__.py"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", fc.__version__)
    try:
        installed = importlib.metadata.version("fitcore")
    except importlib.metadata.PackageNotFoundError:
        return  # a source tree on PYTHONPATH: the metadata comes with an install
    if os.path.commonpath([PACKAGE, ROOT]) != ROOT:  # testing an installed copy
        assert installed == fc.__version__


def test_license_ships_with_the_sources():
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert "Apache License" in text and "Version 2.0" in text
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert 'sdist.include = ["LICENSE"]' in f.read()


@pytest.mark.skipif(shutil.which("nm") is None or not _core.__file__.endswith(".so"),
                    reason="needs binutils' nm and an ELF extension module")
def test_only_the_init_function_is_exported():
    out = subprocess.run(["nm", "-D", "--defined-only", _core.__file__], capture_output=True, text=True,
                         check=True).stdout
    exported = [line.split()[-1] for line in out.splitlines() if line.split()[1] in "TtWwDdBbVvRr"]
    assert exported == ["PyInit__core"], exported


def test_builds_are_portable_unless_native_is_asked_for():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        cmake = f.read()
    assert re.search(r'option\(FITCORE_NATIVE "[^"]*" OFF\)', cmake)
