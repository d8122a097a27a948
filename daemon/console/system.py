"""The console's commands on the board around the appliance: the network address (through
NetworkManager where it runs, else a systemd-networkd file), the clock, and the daemon's log
(the journal, or a log file given to the console).

Under ``--root`` (a board image, or a test's scratch root) the network file is written there
and nothing on the running machine is touched: the clock of this machine is not the image's
and is never set from one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import shutil
import subprocess
import time as _time
from pathlib import Path
from typing import TYPE_CHECKING

from veilcam.field.doctor import EARLIEST, Machine

if TYPE_CHECKING:
    from veilcam.console.session import Session

IFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}")
FOLLOW_MAX = 600.0


def _run(argv: list[str], timeout: float = 20) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise OSError(f"{' '.join(argv[:3])}: {out.stderr.strip() or 'failed'}")
    return out.stdout


def _on_board(c: Session) -> bool:
    return c.root == Path("/")


async def net(c: Session, args: list[str]) -> None:
    if not args:
        ip = shutil.which("ip")
        if ip is None:
            raise OSError("no `ip` command on this board")
        c.say(await asyncio.to_thread(_run, [ip, "-brief", "address"]))
        c.say(await asyncio.to_thread(_run, [ip, "route"]) or "no routes")
        return
    if args[0] == "set" and len(args) in (3, 4):
        iface, address = args[1], ipaddress.ip_interface(args[2])
        gateway = ipaddress.ip_address(args[3]) if len(args) == 4 else None
        if address.network.prefixlen == address.max_prefixlen:
            raise ValueError(f"{args[2]}: give the prefix too, e.g. 192.168.1.20/24")
        if gateway is not None and gateway not in address.network:
            raise ValueError(f"gateway {gateway} is outside {address.network}")
        await _configure(c, iface, str(address), str(gateway) if gateway else None)
    elif args[0] == "dhcp" and len(args) == 2:
        await _configure(c, args[1], None, None)
    else:
        raise ValueError("usage: net | net set IFACE ADDRESS/PREFIX [GATEWAY] | net dhcp IFACE")


async def _configure(c: Session, iface: str, address: str | None, gateway: str | None) -> None:
    if not IFACE.fullmatch(iface):
        raise ValueError(f"{iface!r} is not an interface name")
    what = f"{iface}: " + (
        f"{address}" + (f" via {gateway}" if gateway else "") if address else "DHCP"
    )
    await c.backend.record("console.net", iface, what)
    nmcli = shutil.which("nmcli") if _on_board(c) else None
    if nmcli:
        con = (
            await asyncio.to_thread(
                _run, [nmcli, "-g", "GENERAL.CONNECTION", "device", "show", iface]
            )
        ).strip()
        if not con:
            raise OSError(f"NetworkManager has no connection on {iface}")
        argv = [nmcli, "connection", "modify", con]
        if address:
            argv += ["ipv4.method", "manual", "ipv4.addresses", address]
            argv += ["ipv4.gateway", gateway or ""]
        else:
            argv += ["ipv4.method", "auto", "ipv4.addresses", "", "ipv4.gateway", ""]
        await asyncio.to_thread(_run, argv)
        await asyncio.to_thread(_run, [nmcli, "connection", "up", con], 60)
        c.say(f"NetworkManager: {what}")
        return
    folder = Machine(c.root).path("/etc/systemd/network")
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[Match]", f"Name={iface}", "", "[Network]"]
    lines += (
        [f"Address={address}"] + ([f"Gateway={gateway}"] if gateway else [])
        if address
        else ["DHCP=yes"]
    )
    path = folder / f"10-veilcam-{iface}.network"
    path.write_text("# written by the veilcam console\n" + "\n".join(lines) + "\n")
    path.chmod(0o644)
    networkctl = shutil.which("networkctl") if _on_board(c) else None
    if networkctl:
        await asyncio.to_thread(_run, [networkctl, "reload"])
    c.say(f"systemd-networkd: {what} ({path})")


async def time(c: Session, args: list[str]) -> None:
    m = Machine(c.root)
    if not args:
        now = dt.datetime.now(dt.UTC)
        c.say(f"  UTC      {now:%Y-%m-%d %H:%M:%S}")
        c.say(f"  local    {now.astimezone():%Y-%m-%d %H:%M:%S %Z}")
        c.say(f"  synchronised: {'yes' if m.clock_synchronised() else 'no'}")
        return
    if args[0] == "set" and len(args) == 2:
        try:
            when = dt.datetime.fromisoformat(args[1]).replace(tzinfo=dt.UTC)
        except ValueError:
            raise ValueError(f"{args[1]!r}: write the time as 'YYYY-MM-DD HH:MM' (UTC)") from None
        if not EARLIEST <= when < dt.datetime(2100, 1, 1, tzinfo=dt.UTC):
            raise ValueError(f"{when:%Y-%m-%d}: not a date this board can be at")
        if not _on_board(c):
            raise OSError(f"this console looks after {c.root}, not this machine: clock left alone")
        before = dt.datetime.now(dt.UTC)
        await c.backend.record("console.time-set", detail=f"{before:%Y-%m-%d %H:%M:%S} -> {when}")
        _time.clock_settime(_time.CLOCK_REALTIME, when.timestamp())
        c.say(f"clock set to {when:%Y-%m-%d %H:%M:%S} UTC (NTP, when on, will correct it)")
    elif args == ["sync"]:
        timedatectl = shutil.which("timedatectl") if _on_board(c) else None
        if timedatectl is None:
            raise OSError("no timedatectl here: time synchronisation is the image's own")
        await asyncio.to_thread(_run, [timedatectl, "set-ntp", "true"])
        c.say("NTP synchronisation on")
    else:
        raise ValueError("usage: time | time set 'YYYY-MM-DD HH:MM' | time sync")


def _tail(path: Path, n: int) -> list[str]:
    with open(path, errors="replace") as f:
        return f.read().splitlines()[-n:]


async def logs(c: Session, args: list[str]) -> None:
    n, follow = 40, 0.0
    rest = list(args)
    if "--follow" in rest:
        i = rest.index("--follow")
        rest.pop(i)
        follow = 30.0
        if i < len(rest) and rest[i].replace(".", "", 1).isdigit():
            follow = min(FOLLOW_MAX, float(rest.pop(i)))
    if rest:
        if not rest[0].isdigit() or len(rest) > 1:
            raise ValueError("usage: logs [LINES] [--follow [SECONDS]]")
        n = max(1, min(1000, int(rest[0])))
    if c.log_file is not None:
        for line in await asyncio.to_thread(_tail, c.log_file, n):
            c.say(line)
        if follow:
            await _follow_file(c, c.log_file, follow)
        return
    journalctl = shutil.which("journalctl") if _on_board(c) else None
    if journalctl is None:
        raise OSError("no journal on this machine; start the console with --log-file FILE")
    argv = [journalctl, "-u", "veilcam.service", "--no-pager", "-o", "short-iso", "-n", str(n)]
    c.say(await asyncio.to_thread(_run, argv))
    if follow:
        proc = await asyncio.create_subprocess_exec(
            *argv, "-f", "-n", "0", stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        end = asyncio.get_running_loop().time() + follow
        try:
            while (left := end - asyncio.get_running_loop().time()) > 0:
                try:
                    async with asyncio.timeout(left):
                        raw = await proc.stdout.readline()
                except TimeoutError:
                    break
                if not raw:
                    break
                c.say(raw.decode(errors="replace").rstrip())
        finally:
            proc.kill()
            await proc.wait()


def _appended(path: Path, offset: int) -> tuple[bytes, int]:
    """What was written to ``path`` past ``offset``, and the new offset (0 after a
    rotation or truncation: read again from the start)."""
    size = path.stat().st_size
    if size < offset:
        offset = 0
    if size == offset:
        return b"", offset
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(size - offset), size


async def _follow_file(c: Session, path: Path, seconds: float) -> None:
    """New lines of the log file as they come, for ``seconds``."""
    end = _time.monotonic() + seconds
    _, offset = await asyncio.to_thread(_appended, path, 0)
    pending = b""
    while _time.monotonic() < end:
        await asyncio.sleep(0.2)
        data, offset = await asyncio.to_thread(_appended, path, offset)
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            c.say(line.decode(errors="replace"))
