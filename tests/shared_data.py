"""Where the tests find the public benchmark data in ``shared/data`` (never copied into the repo)."""

import os
from pathlib import Path

import pytest


def shared_data_dir() -> Path:
    """``$DOORSTEP_SHARED_DATA``, else ``shared/data`` beside the repository."""
    configured = os.environ.get("DOORSTEP_SHARED_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require_shared(*parts: str) -> Path:
    """The shared data file at ``parts``; skips the calling test when it is absent."""
    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} not found; set DOORSTEP_SHARED_DATA to the folder holding it")
    return path
