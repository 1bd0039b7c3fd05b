"""The folders of models/ are layers: a lower one never imports a higher one, and none imports streamlit."""
import ast

import pytest

from models.core.paths import ROOT

LESSONS = {"foundations", "training", "images", "sequences", "evaluation"}
# What each lower layer may import from models/ (a lesson package may import any lower layer).
ALLOWED = {"core": {"core"}, "engine": {"core", "engine"}, "vision": {"core", "engine", "vision"}}
# Above the lessons: the class poll, whose question registry names every page's predict-first question.
TOP = {"classroom"}


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            if isinstance(node.args[0], ast.Constant):
                yield node.args[0].value


def models_files():
    return sorted((ROOT / "models").rglob("*.py"))


def test_every_models_file_sits_in_a_layer_folder():
    loose = {p.name for p in (ROOT / "models").glob("*.py")}
    assert loose == {"__init__.py", "prefetch.py"}, "models/ keeps only its package file and the prefetch command"
    folders = {p.parent.name for p in models_files() if p.parent != ROOT / "models"}
    assert folders <= set(ALLOWED) | LESSONS | TOP, folders


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_only_lower_layers(layer):
    for path in sorted((ROOT / "models" / layer).glob("*.py")):
        for module in imported_modules(path):
            if module.startswith("models."):
                assert module.split(".")[1] in ALLOWED[layer], f"{path.relative_to(ROOT)} imports {module}"


def test_the_engine_imports_no_lesson_module():
    for path in sorted((ROOT / "models" / "engine").glob("*.py")):
        for module in imported_modules(path):
            assert not (module.startswith("models.") and module.split(".")[1] in LESSONS | {"vision"}), (path, module)


def test_lesson_sections_do_not_import_each_other():
    """A lesson module may use another section's module only through the lower layers' public parts."""
    for path in models_files():
        section = path.parent.name
        if section not in LESSONS:
            continue
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "models" and len(parts) > 1 and parts[1] in LESSONS | TOP:
                assert parts[1] == section, f"{path.relative_to(ROOT)} imports {module} from another section"


def test_no_models_file_imports_streamlit():
    for path in models_files():
        assert not any(m.split(".")[0] == "streamlit" for m in imported_modules(path)), path
