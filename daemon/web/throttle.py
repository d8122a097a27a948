"""Sign-in throttling: growing delays per source address and per account, never a lock.

A hard lock after N failures lets anyone who knows a user name lock that user out, from
anywhere, forever; and a locked account that answers at once tells a stranger the account
exists. Instead every failed attempt pushes the next one further out:

- per **source address**: after ``free`` failures the next attempt from that address waits
  1 s, then 2 s, 4 s ... up to ``max_delay``; an attempt that would wait longer than that is
  refused at once (429) with the time to wait;
- per **account** (whether or not the name exists, so the delays tell nothing): the account's
  delay grows the same way with its failures from every address, but it applies only to
  addresses that have themselves failed on that account. The real user, at another address,
  signs in without waiting while someone guesses their password elsewhere.

An attempt counts as a failure from the moment it is let through until it succeeds, so
concurrent guesses from one address queue behind each other instead of racing past the
free tries. Everything is forgotten ``forget`` seconds after an address's or account's
last failure, and at most ``max_keys`` of each are remembered (the oldest go first): the
table is bounded whatever arrives. State is in memory: a restart forgets it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from veilcam.errors import LoginRefused

K = TypeVar("K")


@dataclass(slots=True)
class _Record:
    failures: int = 0
    next_at: float = 0.0  # when the next attempt may start
    last: float = 0.0  # the last failure (or reserved attempt)


class Throttled(LoginRefused):
    """Too many recent failures from this address: ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(
            "throttled", f"too many sign-in attempts from your address: wait {seconds} s"
        )
        self.retry_after = seconds


class Throttle:
    def __init__(
        self,
        free: int = 5,
        max_delay: float = 60.0,
        forget: float = 3600.0,
        max_keys: int = 10_000,
    ) -> None:
        if free < 1 or max_delay <= 0 or forget <= 0 or max_keys < 1:
            raise ValueError("throttle needs free >= 1 and positive limits")
        self.free = free
        self.max_delay = max_delay
        self.forget = forget
        self.max_keys = max_keys
        self._addresses: OrderedDict[str, _Record] = OrderedDict()
        self._accounts: OrderedDict[str, _Record] = OrderedDict()
        self._pairs: OrderedDict[tuple[str, str], _Record] = OrderedDict()

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures: none for the free ones, then 1, 2, 4 s..."""
        if failures < self.free:
            return 0.0
        return min(2.0 ** (failures - self.free), self.max_delay)

    def reserve(self, address: str, account: str, now: float) -> float:
        """Seconds this attempt must wait before it is checked; counts it as a failure until
        ``succeeded``. Raises Throttled if that wait would exceed ``max_delay``."""
        addr = self._get(self._addresses, address, now)
        acct = self._get(self._accounts, account, now)
        pair = self._get(self._pairs, (account, address), now)
        start = max(now, addr.next_at)
        if pair.failures > 0:
            start = max(start, acct.next_at)
        wait = start - now
        if wait > self.max_delay:
            raise Throttled(wait - self.max_delay)
        for rec in (addr, acct, pair):
            rec.failures += 1
            rec.last = now
        addr.next_at = start + self.delay(addr.failures)
        acct.next_at = max(acct.next_at, start) + self.delay(acct.failures)
        return wait

    def refusing(self, address: str, now: float) -> float | None:
        """Seconds until this address may try again, if any try now would be refused
        whatever the account: the cheap check made before a request is even read."""
        rec = self._addresses.get(address)
        if rec is None:
            return None
        wait = rec.next_at - now
        return wait - self.max_delay if wait > self.max_delay else None

    def succeeded(self, address: str, account: str) -> None:
        """The right password: this address's and this pair's attempt was not a failure.
        The account keeps its count: a guesser elsewhere must not be let off."""
        for table, key in ((self._addresses, address), (self._pairs, (account, address))):
            table.pop(key, None)  # type: ignore[arg-type]
        acct = self._accounts.get(account)
        if acct is not None and acct.failures > 0:
            acct.failures -= 1

    def _get(self, table: OrderedDict[K, _Record], key: K, now: float) -> _Record:
        rec = table.get(key)
        if rec is not None and now - rec.last > self.forget and now >= rec.next_at:
            rec = None
        if rec is None:
            rec = table[key] = _Record()
            while len(table) > self.max_keys:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return rec
