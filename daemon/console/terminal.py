"""The console's two terminals on one file descriptor (a serial port, a USB-gadget port, a
pseudo-terminal or standard input and output):

- ``PlainTerminal``: lines as the kernel's line discipline gives them (canonical mode:
  echo, erase, kill), output wrapped at 80 columns, no escape sequences; for a dumb
  terminal, a logger's capture, or ``TERM=dumb``.
- ``EditingTerminal``: prompt_toolkit on the same descriptor: line editing, history (this
  session's only: nothing typed is written to disk) and completion of commands and camera
  names, for a VT100-compatible terminal (picocom, minicom, screen, PuTTY).

Both read with a time limit (an idle console signs out) and never echo a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import termios
import textwrap
from collections.abc import Iterator
from typing import Any, Protocol

WIDTH = 80


class Idle(Exception):
    """Nothing typed within the time limit."""


class Terminal(Protocol):
    width: int

    def write(self, text: str) -> None: ...

    async def read_line(
        self, prompt: str, *, secret: bool = False, idle: float | None = None
    ) -> str | None:
        """A line without its end, None at the end of input; Idle past ``idle`` seconds."""
        ...

    def set_words(self, words: list[str]) -> None:
        """What completion offers (commands, camera names)."""
        ...


def configure_port(fd: int, baud: int) -> None:
    """A serial port as a getty would leave it: 8N1 at ``baud``, canonical input with echo,
    CR read as NL and NL written as CRLF."""
    speed = getattr(termios, f"B{baud}", None)
    if speed is None:
        raise ValueError(f"baud rate {baud} is not one the terminal driver knows")
    attrs = termios.tcgetattr(fd)
    iflag, oflag, cflag, lflag = attrs[:4]
    iflag = (iflag | termios.ICRNL | termios.IXON) & ~(termios.INLCR | termios.IGNCR)
    oflag |= termios.OPOST | termios.ONLCR
    cflag = (cflag & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)) | termios.CS8
    cflag |= termios.CREAD | termios.CLOCAL
    lflag |= termios.ICANON | termios.ECHO | termios.ECHOE | termios.ECHOK
    attrs[:6] = [iflag, oflag, cflag, lflag, speed, speed]
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


@contextlib.contextmanager
def _no_echo(fd: int) -> Iterator[None]:
    try:
        old = termios.tcgetattr(fd)
    except termios.error:  # not a terminal: nothing echoes anyway
        yield
        return
    new = list(old)
    new[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, new)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, old)


class PlainTerminal:
    def __init__(self, fd_in: int, fd_out: int, width: int = WIDTH) -> None:
        self.fd_in, self.fd_out, self.width = fd_in, fd_out, width
        self._pending = b""

    def write(self, text: str) -> None:
        lines = []
        for line in text.split("\n"):
            indent = len(line) - len(line.lstrip(" "))
            lines += textwrap.wrap(
                line, self.width, subsequent_indent=" " * (indent + 2), break_on_hyphens=False
            ) or [""]
        self._out("\n".join(lines) + "\n")

    def _out(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd_out, data) :]

    def set_words(self, words: list[str]) -> None:
        pass  # a dumb terminal completes nothing

    def _read_line(self, timeout: float | None) -> str | None:
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self.fd_in], [], [], timeout)
            if not ready:
                raise Idle
            chunk = os.read(self.fd_in, 1024)
            if not chunk:
                if self._pending:
                    break
                return None
            self._pending += chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8", "replace")

    async def read_line(
        self, prompt: str, *, secret: bool = False, idle: float | None = None
    ) -> str | None:
        self._out(prompt)
        if not secret:
            return await asyncio.to_thread(self._read_line, idle)
        with _no_echo(self.fd_in):
            try:
                return await asyncio.to_thread(self._read_line, idle)
            finally:
                self._out("\n")


class EditingTerminal:
    """prompt_toolkit on ``fd`` (both ways); ``term`` names the terminal type."""

    def __init__(self, fd: int, term: str) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import WordCompleter
        from prompt_toolkit.history import InMemoryHistory
        from prompt_toolkit.input.vt100 import Vt100Input
        from prompt_toolkit.output.vt100 import Vt100_Output

        # Two file objects on the one descriptor: a terminal is not seekable, so not "r+".
        self._in = os.fdopen(os.dup(fd), "r", encoding="utf-8", errors="replace")
        self._file = os.fdopen(os.dup(fd), "w", encoding="utf-8", errors="replace")
        # No cursor-position requests: a serial terminal may never answer them.
        self._output = Vt100_Output(self._file, self._size, term=term, enable_cpr=False)
        self._input = Vt100Input(self._in)
        self.width = self._output.get_size().columns or WIDTH
        self._words = WordCompleter([], sentence=True)
        self._session: PromptSession[str] = PromptSession(
            input=self._input,
            output=self._output,
            history=InMemoryHistory(),
            completer=self._words,
            complete_while_typing=False,
        )
        self._secret: PromptSession[str] = PromptSession(input=self._input, output=self._output)

    def _size(self) -> Any:
        """The terminal's size where it reports one (a serial line does not: 80x24)."""
        from prompt_toolkit.data_structures import Size

        cols, rows = 0, 0
        with contextlib.suppress(OSError):
            cols, rows = os.get_terminal_size(self._file.fileno())
        return Size(rows=rows or 24, columns=cols or WIDTH)

    def set_words(self, words: list[str]) -> None:
        self._words.words = words

    def write(self, text: str) -> None:
        self._output.write_raw(text.replace("\n", "\r\n") + "\r\n")
        self._output.flush()

    async def read_line(
        self, prompt: str, *, secret: bool = False, idle: float | None = None
    ) -> str | None:
        session = self._secret if secret else self._session
        try:
            async with asyncio.timeout(idle):
                return await session.prompt_async(prompt, is_password=secret)
        except TimeoutError:
            raise Idle from None
        except EOFError:
            return None
        except KeyboardInterrupt:
            return ""  # Ctrl-C drops the line, as in a shell


def open_terminal(fd: int, term: str) -> Terminal:
    """The editing terminal where the descriptor is a terminal of a known type; else plain."""
    if term in ("", "dumb", "unknown") or not os.isatty(fd):
        return PlainTerminal(fd, fd)
    return EditingTerminal(fd, term)
