"""The org directory tables: teams, people, their platform identities."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    role: str
    team_id: str | None
    is_admin: bool
    department: str
    phone: str


_P = "id, name, role, team_id, is_admin, department, phone"


def _person(r) -> Person:
    return Person(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6])


def upsert_team(store: Store, team_id: str, name: str, manager_id: str | None) -> None:
    store.conn.execute(
        "INSERT INTO teams (id, name, manager_id) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, manager_id = COALESCE(excluded.manager_id, manager_id)",
        (team_id, name, manager_id),
    )


def upsert_person(store: Store, person_id: str, name: str, role: str, team_id: str | None, *, is_admin: bool = False,
                  department: str = "", phone: str = "") -> None:
    store.conn.execute(
        f"INSERT INTO people ({_P}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, team_id = excluded.team_id,"
        " is_admin = excluded.is_admin, department = excluded.department, phone = excluded.phone, active = 1",
        (person_id, name, role, team_id, int(is_admin), department, phone),
    )


def add_identity(store: Store, platform: str, platform_user_id: str, person_id: str) -> None:
    store.conn.execute(
        "INSERT INTO identities (platform, platform_user_id, person_id) VALUES (?, ?, ?)"
        " ON CONFLICT (platform, platform_user_id) DO UPDATE SET person_id = excluded.person_id",
        (platform, platform_user_id, person_id),
    )


def all_people(store: Store) -> list[Person]:
    return [_person(r) for r in store.conn.execute(f"SELECT {_P} FROM people WHERE active = 1 ORDER BY id")]


def all_identities(store: Store) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in store.conn.execute("SELECT platform, platform_user_id, person_id FROM identities")]


def identities_of(store: Store, person_id: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in store.conn.execute(
            "SELECT platform, platform_user_id FROM identities WHERE person_id = ? ORDER BY platform", (person_id,)
        )
    ]


def all_teams(store: Store) -> list[tuple[str, str, str | None]]:
    return [tuple(r) for r in store.conn.execute("SELECT id, name, manager_id FROM teams ORDER BY id")]


def person_by_phone(store: Store, phone: str) -> Person | None:
    r = store.conn.execute(f"SELECT {_P} FROM people WHERE phone = ? AND active = 1", (phone,)).fetchone()
    return _person(r) if r else None


def people_matching(store: Store, text: str) -> list[Person]:
    """Active people whose name, id or platform account (userid / staffId / open_id) is exactly `text`."""
    return [_person(r) for r in store.conn.execute(
        f"SELECT {_P} FROM people WHERE active = 1 AND (name = ? OR id = ? OR id IN"
        " (SELECT person_id FROM identities WHERE platform_user_id = ?)) ORDER BY id", (text, text, text))]


def set_admin(store: Store, person_id: str) -> None:
    """Make someone an admin; org syncs keep the flag (they never lower it)."""
    store.conn.execute("UPDATE people SET is_admin = 1 WHERE id = ?", (person_id,))


def team_member_ids(store: Store, team_id: str) -> list[str]:
    """The ids of the people in a team."""
    return [r[0] for r in store.conn.execute("SELECT id FROM people WHERE team_id = ?", (team_id,))]


def team_of(store: Store, person_id: str) -> str | None:
    """A person's team id ('' when in none; None when the person is unknown)."""
    row = store.conn.execute("SELECT COALESCE(team_id, '') FROM people WHERE id = ?", (person_id,)).fetchone()
    return None if row is None else str(row[0])
