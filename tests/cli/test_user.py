import sqlite3
from pathlib import Path

from argon2 import PasswordHasher

from tests.cli.conftest import Doorstep

PASSWORD = "correct horse battery"


def stored_users(folder: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(folder / "cli.db") as conn:
        query = "select username, role, password_hash, disabled from staff_users order by username"
        return conn.execute(query).fetchall()


def test_user_add_asks_for_the_password_twice_and_stores_an_argon2_hash(
    doorstep: Doorstep, tmp_path: Path
) -> None:
    result = doorstep("user", "add", "Alice", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "added alice (admin)" in result.stdout
    assert PASSWORD not in result.output
    [(name, role, password_hash, disabled)] = stored_users(tmp_path)
    assert (name, role, disabled) == ("alice", "admin", 0)
    assert PasswordHasher().verify(password_hash, PASSWORD)


def test_user_add_reads_the_password_from_stdin_or_the_environment(
    doorstep: Doorstep, tmp_path: Path
) -> None:
    assert doorstep("user", "add", "bob", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    assert doorstep("user", "add", "carol", DOORSTEP_NEW_PASSWORD=PASSWORD).exit_code == 0
    assert [(u[0], u[1]) for u in stored_users(tmp_path)] == [("bob", "agent"), ("carol", "agent")]


def test_user_add_refuses_a_short_password(doorstep: Doorstep, tmp_path: Path) -> None:
    result = doorstep("user", "add", "dave", DOORSTEP_NEW_PASSWORD="short")
    assert result.exit_code == 1
    assert "password too short: use at least 10 characters" in result.stderr
    assert not (tmp_path / "cli.db").exists() or stored_users(tmp_path) == []


def test_user_add_refuses_a_taken_username(doorstep: Doorstep) -> None:
    assert doorstep("user", "add", "erin", DOORSTEP_NEW_PASSWORD=PASSWORD).exit_code == 0
    again = doorstep("user", "add", "ERIN", "--role", "admin", DOORSTEP_NEW_PASSWORD=PASSWORD + "!")
    assert again.exit_code == 1
    assert "user 'erin' exists already" in again.stderr


def test_user_add_refuses_a_bad_username(doorstep: Doorstep) -> None:
    result = doorstep("user", "add", "../root", DOORSTEP_NEW_PASSWORD=PASSWORD)
    assert result.exit_code == 1
    assert "a username is 1-64 of a-z, 0-9" in result.stderr


def test_user_list_and_disable(doorstep: Doorstep, tmp_path: Path) -> None:
    doorstep("user", "add", "frank", "--role", "admin", DOORSTEP_NEW_PASSWORD=PASSWORD)
    doorstep("user", "add", "grace", DOORSTEP_NEW_PASSWORD=PASSWORD)
    assert doorstep("user", "disable", "grace").stdout.strip() == "disabled grace"
    listed = doorstep("user", "list").stdout
    assert "frank" in listed
    assert "admin" in listed
    assert "grace" in listed
    assert "disabled" in listed
    assert [u[3] for u in stored_users(tmp_path)] == [0, 1]
    missing = doorstep("user", "disable", "nobody")
    assert missing.exit_code == 1
    assert "no user 'nobody'" in missing.stderr
