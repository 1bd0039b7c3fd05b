"""Where the repository and its data folder are, for every module that reads a shipped file."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
