"""Screen sizes and where screenshots go; the browser itself is tests/conftest.py's `browser`."""

from __future__ import annotations

from pathlib import Path

PHONE = {"width": 375, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "results" / "screenshots"
