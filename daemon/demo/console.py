"""The demo's serial console: ``veilcam console`` on one pseudo-terminal, joined like a
null-modem cable to a second one a visitor opens with a terminal program
(``picocom -q .demo-data/console``, ``screen .demo-data/console``), as a technician's
USB-serial cable would join their laptop to the board."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tty
from pathlib import Path


class DemoConsole:
    def __init__(self, data_dir: Path, config: Path, log_file: Path) -> None:
        self.link = data_dir / "console"
        self._board_master, board_slave = os.openpty()  # the board's end: the console's port
        self._user_master, user_slave = os.openpty()  # the visitor's end
        for fd in (board_slave, user_slave):
            tty.setraw(fd)  # the console sets its own port up; the visitor's program its own
        self._slaves = (board_slave, user_slave)
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(user_slave))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "veilcam", "console", "--port", os.ttyname(board_slave),
             "--config", str(config), "--term", "vt100", "--log-file", str(log_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        for a, b in (
            (self._board_master, self._user_master),
            (self._user_master, self._board_master),
        ):
            os.set_blocking(a, False)
            loop.add_reader(a, self._relay, a, b)

    def _relay(self, src: int, dst: int) -> None:
        with contextlib.suppress(OSError):  # nobody at the other end yet: dropped, as on a wire
            data = os.read(src, 4096)
            if data:
                os.write(dst, data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in (self._board_master, self._user_master):
            loop.remove_reader(fd)
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for fd in (self._board_master, self._user_master, *self._slaves):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.link.unlink(missing_ok=True)
