"""Accounts: Argon2id hashes, the password policy, two administrators at most (enforced by
the database), failures counted but never locking, expiry, and an audit entry for each."""

from __future__ import annotations

import contextlib
import threading

import pytest

from veilcam.accounts import Accounts, Policy
from veilcam.clock import FakeClock
from veilcam.errors import AccountError, LoginRefused, StoreError
from veilcam.store import Store

PW = "correct horse battery"


async def audit_actions(store: Store) -> list[tuple[str, str, str | None]]:
    rows = await store.db.read(
        lambda db: db.conn.execute(
            "SELECT action, object, detail FROM audit_log ORDER BY id"
        ).fetchall()
    )
    return [tuple(r) for r in rows]


async def test_users_are_stored_with_argon2id_and_audited(store: Store) -> None:
    acc = Accounts(store)
    await acc.add("maria", "manager", PW, actor="cli:root")
    row = await store.db.read(lambda db: db.conn.execute("SELECT * FROM users").fetchone())
    assert row["password_hash"].startswith("$argon2id$") and PW not in row["password_hash"]
    assert ("user.add", "maria", "role manager") in await audit_actions(store)


@pytest.mark.parametrize(
    ("username", "role", "password", "message"),
    [
        ("maria", "manager", "short", "at least 12 characters"),
        ("maria", "manager", "maria-is-the-best", "must not contain the user name"),
        ("maria", "owner", PW, "role must be one of"),
        ("Maria Smith", "manager", PW, "user names are 3-32"),
        ("admin\x00\x1b[2J", "manager", PW, "user names are 3-32"),
    ],
)
async def test_bad_accounts_are_refused_with_the_reason(
    store: Store, username: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        await Accounts(store).add(username, role, password, actor="cli:root")


async def test_a_third_administrator_is_refused_by_the_database(store: Store) -> None:
    acc = Accounts(store)
    await acc.add("ada", "admin", PW, actor="cli:root")
    await acc.add("bob", "admin", PW, actor="cli:root")
    with pytest.raises(AccountError, match="at most two administrators"):
        await acc.add("cyd", "admin", PW, actor="cli:root")
    assert (
        "user.add.refused",
        "cyd",
        "at most two administrators per site: this site already has two",
    ) in await audit_actions(store)
    await acc.add("cyd", "manager", PW, actor="cli:root")

    def promote(db):  # type: ignore[no-untyped-def]
        db.conn.execute("UPDATE users SET role = 'admin' WHERE username = 'cyd'")

    with pytest.raises(StoreError, match="two administrators"):
        await store.db.write(promote)  # not even by hand, past the application

    def retire_bob(db):  # type: ignore[no-untyped-def]
        db.conn.execute("UPDATE users SET disabled = 1 WHERE username = 'bob'")

    await store.db.write(retire_bob)
    await store.db.write(promote)  # a disabled admin frees the seat


async def test_failures_are_counted_but_never_lock_the_account(store: Store) -> None:
    """Delays are the web throttle's, per address: the account itself is never locked, or
    anyone who knows a name could lock its owner out (finding 3 of issue 14)."""
    acc = Accounts(store)
    await acc.add("maria", "manager", PW, actor="cli:root")
    for _ in range(10):
        with pytest.raises(LoginRefused):
            await acc.login("maria", "wrong password!!", ip="10.0.0.9")
    count = await store.db.read(
        lambda db: db.conn.execute("SELECT failed_logins FROM users").fetchone()[0]
    )
    assert count == 10
    user = await acc.login("maria", PW, ip="10.0.0.7", agent="Firefox")
    assert user.username == "maria" and not user.must_change
    actions = await audit_actions(store)
    assert [a for a, _, _ in actions].count("login.failed") == 10
    assert actions[-1][0] == "login"


async def test_a_nul_byte_cannot_hide_in_a_user_name(store: Store) -> None:
    """SQLite's length() and GLOB stop at NUL: the database's own trigger refuses it too,
    past the application (finding 8)."""

    def insert(db):  # type: ignore[no-untyped-def]
        db.conn.execute(
            "INSERT INTO users (username, role, password_hash, password_changed_at, created_at)"
            " VALUES (?, 'manager', '$argon2id$x', 0, 0)",
            ("tom\x00\x1b[31m",),
        )

    with pytest.raises(StoreError, match="may only hold"):
        await store.db.write(insert)


async def test_hashing_never_runs_on_the_database_writer(store: Store) -> None:
    """Argon2 takes ~0.1 s of a core: on the writer it would hold up every session lookup
    and sensor batch (finding 2). The writer is kept busy-free while logins hash."""
    acc = Accounts(store)
    await acc.add("maria", "manager", PW, actor="cli:root")
    threads: set[str] = set()
    import argon2

    real = argon2.PasswordHasher.verify

    def spy(self, *a):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return real(self, *a)

    argon2.PasswordHasher.verify = spy  # type: ignore[method-assign]
    try:
        for pw in (PW, "wrong password!!"):
            with contextlib.suppress(LoginRefused):
                await acc.login("maria", pw)
        with contextlib.suppress(LoginRefused):
            await acc.login("nobody", PW)
    finally:
        argon2.PasswordHasher.verify = real  # type: ignore[method-assign]
    assert threads and all(t.startswith("argon2") for t in threads), threads


async def test_unknown_users_get_the_same_answer(store: Store) -> None:
    acc = Accounts(store)
    await acc.add("maria", "manager", PW, actor="cli:root")
    with pytest.raises(LoginRefused) as unknown:
        await acc.login("nobody", PW)
    with pytest.raises(LoginRefused) as wrong:
        await acc.login("maria", "wrong password!!")
    assert str(unknown.value) == str(wrong.value)
    assert unknown.value.reason == "unknown user" and wrong.value.reason == "bad password"


async def test_passwords_expire_and_must_then_change(store: Store, clock: FakeClock) -> None:
    acc = Accounts(store, Policy(password_max_age=90 * 86400))
    await acc.add("maria", "manager", PW, actor="cli:root")
    clock.advance(91 * 86400)
    user = await acc.login("maria", PW)
    assert user.must_change
    with pytest.raises(AccountError, match="current password"):
        await acc.change_password(user, "not the password", "a brand new password")
    with pytest.raises(AccountError, match="must differ"):
        await acc.change_password(user, PW, PW)
    await acc.change_password(user, PW, "a brand new password")
    assert not (await acc.login("maria", "a brand new password")).must_change
    assert ("user.password", "maria", "sessions ended") in await audit_actions(store)


async def test_administrators_passwords_expire_sooner(store: Store, clock: FakeClock) -> None:
    acc = Accounts(store, Policy(password_max_age=90 * 86400, admin_password_max_age=60 * 86400))
    await acc.add("maria", "manager", PW, actor="cli:root")
    await acc.add("anna", "admin", PW, actor="cli:root")
    clock.advance(61 * 86400)
    assert not (await acc.login("maria", PW)).must_change
    assert (await acc.login("anna", PW)).must_change
    # Never later than everyone else's, whatever the administrators' setting says.
    assert Policy(password_max_age=30 * 86400).max_age("admin") == 30 * 86400


async def test_the_last_five_passwords_cannot_come_back(store: Store, clock: FakeClock) -> None:
    acc = Accounts(store)
    await acc.add("anna", "admin", PW, actor="cli:root")
    passwords = [PW] + [f"password number {i} for her" for i in range(1, 7)]
    for old, new in zip(passwords, passwords[1:5], strict=False):
        clock.advance(86400)
        await acc.change_password(await acc.login("anna", old), old, new)
    user = await acc.login("anna", passwords[4])
    for earlier in passwords[:4]:  # the current one and the four before it
        with pytest.raises(AccountError, match="used before"):
            await acc.change_password(user, passwords[4], earlier)
    await acc.change_password(user, passwords[4], passwords[5])
    user = await acc.login("anna", passwords[5])
    # PW is now six passwords back: allowed again; only four earlier hashes are kept.
    await acc.change_password(user, passwords[5], PW)
    kept = await store.db.read(
        lambda db: db.conn.execute("SELECT count(*) FROM password_history").fetchone()[0]
    )
    assert kept == 4
    actions = await audit_actions(store)
    assert actions.count(("user.password.refused", "anna", "reused")) == 4


def test_users_cli_offline_refuses_a_third_admin(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    import io

    from veilcam.cli import main

    data = str(tmp_path / "data")

    def add(name: str, role: str, password: str = PW) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return main(
            [
                "users",
                "add",
                "--data-dir",
                data,
                "--username",
                name,
                "--role",
                role,
                "--password-stdin",
            ]
        )

    assert add("ada", "admin") == 0 and add("bob", "admin") == 0
    assert add("cyd", "admin") == 2
    assert "at most two administrators" in capsys.readouterr().err
    assert add("dan", "manager", "short") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert main(["users", "list", "--data-dir", data]) == 0
    listed = capsys.readouterr().out
    assert "ada" in listed and "bob" in listed and "cyd" not in listed and "dan" not in listed
    assert PW not in listed


async def test_users_add_through_the_running_daemon(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.daemon import config_for
    from veilcam.control.client import call
    from veilcam.errors import ControlError
    from veilcam.runtime.supervisor import running

    data_dir = tmp_path / "data"
    async with running(config_for(data_dir)) as app:
        reply = await call(
            data_dir,
            {
                "command": "users.add",
                "actor": "cli:test",
                "username": "maria",
                "role": "manager",
                "password": PW,
            },
        )
        assert reply["id"] >= 1
        with pytest.raises(ControlError, match="at least 12"):
            await call(
                data_dir,
                {
                    "command": "users.add",
                    "username": "x-y-z",
                    "role": "auditor",
                    "password": "nope",
                },
            )
        users = (await call(data_dir, {"command": "users.list"}))["users"]
        assert [u["username"] for u in users] == ["maria"]
        actions = await audit_actions(app.store)
    assert ("user.add", "maria", "role manager") in actions
    # the password is in no audit entry
    assert all(PW not in str(a) for a in actions)
