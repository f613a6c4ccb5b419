"""Snapshots of the main views (see tests/scenes.py for what each should show).

After a deliberate change to how the app looks, look at the report, then run
`pytest tests/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ollama_server import FakeOllama
from scenes import SCENES


@pytest.mark.parametrize("name", list(SCENES))
def test_main_views(name: str, snap_compare, tmp_path: Path) -> None:
    with FakeOllama() as server:
        scene = SCENES[name](server, tmp_path)
        try:
            assert snap_compare(scene.app, terminal_size=scene.size, run_before=scene.run_before), SCENES[name].__doc__
        finally:
            scene.close()
