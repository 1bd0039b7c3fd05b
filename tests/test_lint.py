"""The linter runs as part of the suite, with the configuration in pyproject.toml."""
import subprocess
import sys

from models.core.paths import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
