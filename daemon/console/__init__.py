"""The technician's serial console (``veilcam console``): a sign-in and a line shell on a
serial port, a USB-gadget port, or the terminal it is started from."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from veilcam.config import Config, RetentionConfig, load
from veilcam.console.backend import Backend
from veilcam.console.session import IDLE
from veilcam.console.shell import Console
from veilcam.console.terminal import PlainTerminal, configure_port, open_terminal
from veilcam.errors import ConfigError

log = logging.getLogger(__name__)


def run(
    config_path: Path,
    data_dir: Path | None,
    port: str | None,
    *,
    term: str,
    baud: int = 115200,
    root: Path = Path("/"),
    log_file: Path | None = None,
    idle: float = IDLE,
) -> None:
    """Serve the console on ``port`` (or this terminal) until its input ends."""
    config: Config | None
    try:
        config = load(config_path)
    except (ConfigError, OSError) as exc:
        log.warning("console without a configuration: %s", exc)
        config = None  # the console still signs in and can show `config check`
    if data_dir is None:
        if config is None:
            raise ConfigError(f"{config_path}: unreadable; give --data-dir")
        data_dir = Path(config.data_dir)
    retention = config.retention if config else RetentionConfig()
    min_free = (config.storage.min_free_mb if config else 512) * 2**20
    backend = Backend(data_dir, retention, min_free)
    if port:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        if os.isatty(fd):
            configure_port(fd, baud)
        terminal = open_terminal(fd, term)
        where = port
    else:
        terminal = open_terminal(0, term) if os.isatty(0) else PlainTerminal(0, 1)
        where = os.ttyname(0) if os.isatty(0) else "standard input"
    console = Console(
        terminal, backend, config_path, config, where, root=root, log_file=log_file, idle=idle
    )
    try:
        asyncio.run(console.run())
    except OSError as exc:  # the port went away (an adapter unplugged): systemd restarts us
        log.warning("console on %s ended: %s", where, exc)
