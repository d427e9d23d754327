"""Copies of the bundled default scenario to edit in tests."""

import shutil
from pathlib import Path

from staffing.scenario import packaged_models_dir


def copy_default(root: Path) -> Path:
    """Copy models/orange-2009.toml and inputs/orange-2009/ under root; return the model path."""
    src = packaged_models_dir()
    (root / "models").mkdir(parents=True, exist_ok=True)
    model = root / "models" / "orange-2009.toml"
    shutil.copy(src / "orange-2009.toml", model)
    shutil.copytree(src.parent / "inputs" / "orange-2009", root / "inputs" / "orange-2009")
    return model


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file; the old text must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
