"""Templates and static assets of the web UI (no build step)."""

from pathlib import Path

ROOT = Path(__file__).parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
