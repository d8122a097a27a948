"""A console session's state and its terminal: what every command is given."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from veilcam.config import Config
from veilcam.console.backend import Backend
from veilcam.console.terminal import Terminal

IDLE = 900.0  # seconds without a key before the console signs out


@dataclass
class Session:
    term: Terminal
    backend: Backend
    config_path: Path
    config: Config | None
    port: str
    root: Path = Path("/")
    log_file: Path | None = None
    idle: float = IDLE
    fail_delay: float = 1.0
    actor: str = ""
    role: str = ""
    done: bool = False

    @property
    def cameras(self) -> list[str]:
        return [c.name for c in self.config.cameras] if self.config else []

    def say(self, text: str) -> None:
        self.term.write(text)

    async def ask(self, prompt: str, *, secret: bool = False) -> str | None:
        return await self.term.read_line(prompt, secret=secret, idle=self.idle)
