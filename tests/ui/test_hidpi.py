"""At a device pixel ratio of 2 (QT_SCALE_FACTOR=2) the charts and icons are drawn at 2x."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.mark.slow
def test_charts_and_icons_are_sharp_at_scale_factor_2(artifacts_dir: Path) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(HERE / "hidpi_shot.py"), str(artifacts_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["screen_ratio"] == 2.0
    # the 1280 x 800 pane is grabbed at 2560 x 1600 device pixels
    assert seen["shot_ratio"] == 2.0 and seen["shot_pixels"] == [2560, 1600]
    assert seen["icon_pixels"] == [32, 32] and seen["icon_ratio"] == 2.0
    assert (artifacts_dir / "hidpi_2x_charts_latency.png").is_file()
