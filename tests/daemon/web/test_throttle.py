"""The sign-in throttle on its own: growing delays per address and per account, no lock,
and a bounded table (finding 3 of issue 14)."""

from __future__ import annotations

import pytest

from veilcam.web.throttle import Throttle, Throttled


def test_free_tries_then_doubling_waits_then_refusal() -> None:
    t = Throttle(free=5, max_delay=60)
    now = 1000.0
    waits = [t.reserve("10.0.0.9", "maria", now) for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0]
    # Concurrent guesses queue behind each other: 1, 1+2, 3+4, ... seconds from now.
    queued = [t.reserve("10.0.0.9", "maria", now) for _ in range(5)]
    assert queued == [1, 3, 7, 15, 31]
    with pytest.raises(Throttled) as exc:
        t.reserve("10.0.0.9", "maria", now)
    assert exc.value.retry_after >= 1 and "wait" in str(exc.value)


def test_the_real_user_elsewhere_is_not_delayed_by_a_guesser() -> None:
    t = Throttle(free=3, max_delay=60)
    for _ in range(8):
        t.reserve("203.0.113.5", "maria", 0.0)
    with pytest.raises(Throttled):
        t.reserve("203.0.113.5", "maria", 1.0)
    assert t.reserve("192.0.2.10", "maria", 1.0) == 0  # another address: no wait
    t.succeeded("192.0.2.10", "maria")


def test_rotating_addresses_meet_the_account_delay_after_one_try_each() -> None:
    t = Throttle(free=3, max_delay=60)
    for i in range(6):  # six addresses, one guess each: the account has 6 failures
        assert t.reserve(f"198.51.100.{i}", "maria", 0.0) == 0
    # The second guess from any of them waits for the account's delay.
    assert t.reserve("198.51.100.0", "maria", 0.0) > 0


def test_unknown_names_are_throttled_alike() -> None:
    """The delays must not tell which names exist: the throttle never knows."""
    a, b = Throttle(free=2), Throttle(free=2)
    wa = [a.reserve("10.0.0.1", "maria", 0.0) for _ in range(4)]
    wb = [b.reserve("10.0.0.1", "no-such-user", 0.0) for _ in range(4)]
    assert wa == wb


def test_success_clears_the_address_and_failures_are_forgotten() -> None:
    t = Throttle(free=2, max_delay=60, forget=600)
    for _ in range(4):
        t.reserve("10.0.0.1", "tom", 0.0)
    t.succeeded("10.0.0.1", "tom")
    assert t.reserve("10.0.0.1", "tom", 0.0) == 0
    u = Throttle(free=2, max_delay=60, forget=600)
    for _ in range(4):
        u.reserve("10.0.0.2", "tom", 0.0)
    assert u.reserve("10.0.0.2", "tom", 10_000.0) == 0


def test_the_table_is_bounded() -> None:
    t = Throttle(max_keys=100)
    for i in range(10_000):
        t.reserve(f"10.{i // 256 % 256}.{i % 256}.1", f"user{i}", 0.0)
    assert max(len(t._addresses), len(t._accounts), len(t._pairs)) <= 100


@pytest.mark.parametrize("kw", [{"free": 0}, {"max_delay": 0}, {"forget": -1}, {"max_keys": 0}])
def test_limits_that_would_never_throttle_are_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="throttle"):
        Throttle(**kw)  # type: ignore[arg-type]


def test_an_address_past_the_longest_wait_is_refused_before_anything_is_read() -> None:
    t = Throttle(free=1, max_delay=4)
    assert t.refusing("10.0.0.1", 0.0) is None
    for _ in range(3):
        t.reserve("10.0.0.1", "maria", 0.0)  # waits 0, 1, 3; the next would wait 7
    wait = t.refusing("10.0.0.1", 0.0)
    assert wait is not None and wait > 0
    assert t.refusing("10.0.0.2", 0.0) is None
    assert t.refusing("10.0.0.1", 100.0) is None  # the wait is over
