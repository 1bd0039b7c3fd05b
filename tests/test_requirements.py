"""requirements.txt picks exactly one TensorFlow wheel on every platform a teacher may use."""
import pytest
from packaging.requirements import Requirement

from models.core.paths import ROOT


def requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("platform, machine, expected", [
    ("linux", "x86_64", "tensorflow-cpu"),
    ("win32", "AMD64", "tensorflow-cpu"),
    ("darwin", "arm64", "tensorflow"),  # no tensorflow-cpu wheels for macOS
    ("darwin", "x86_64", "tensorflow"),
    ("linux", "aarch64", "tensorflow"),
])
@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_exactly_one_tensorflow_per_platform(platform, machine, expected, python):
    environment = {"sys_platform": platform, "platform_machine": machine, "python_version": python}
    chosen = [r.name for r in requirements()
              if r.name.startswith("tensorflow") and (r.marker is None or r.marker.evaluate(environment))]
    assert chosen == [expected]


def test_the_rest_of_the_stack_is_listed_with_bounds():
    names = {r.name: r for r in requirements()}
    for name in ("keras", "streamlit", "pandas", "altair", "pillow", "scikit-learn", "streamlit-drawable-canvas"):
        assert name in names and names[name].specifier, name
