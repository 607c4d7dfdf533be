"""The directory of a Slack export: users.json -> people, channels/groups/mpims/dms.json -> spaces.

Identity rules (the store merges people whose aliases match, so weak aliases must not merge strangers):

* every user gets the alias ``slack: <team id>:<user id>``, the e-mail from ``profile.email`` and the handle
  ``name`` (Slack user names are unique in a workspace);
* ``profile.display_name`` (a handle) and the real name (a name alias) are added only when no other user of
  the export has the same one, since neither is unique in Slack.

Source key: ``slack:<team id>`` with the team id that most users carry in ``team_id``. An export without
team ids (or without a readable users.json) gets ``slack:h<12 hex>``, a SHA-1 of the id of its oldest
channel (the smallest ``created``, which is ``#general`` in practice), so that a newer export of the same
workspace keeps the same key.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoknows.model import Alias, AliasKind, Person, Space, SpaceKind, Visibility, normalize_alias

#: The metadata files of an export and what their entries become.
CHANNEL_FILES: dict[str, tuple[SpaceKind, Visibility]] = {
    "channels.json": (SpaceKind.CHANNEL, Visibility.PUBLIC),
    "groups.json": (SpaceKind.CHANNEL, Visibility.PRIVATE),
    "mpims.json": (SpaceKind.DM, Visibility.PRIVATE),
    "dms.json": (SpaceKind.DM, Visibility.PRIVATE),
}


@dataclass(slots=True)
class Channel:
    """A conversation of the export: its space and the folder holding its daily files."""

    id: str
    name: str
    folder: str
    space: Space


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict (exports are untrusted)."""
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def team_id(users: Iterable[Any]) -> str | None:
    teams = Counter(t for u in users if isinstance(u, dict) and (t := _str(u.get("team_id"))))
    return teams.most_common(1)[0][0] if teams else None


def source_key(users: list[Any], channel_lists: Iterable[list[Any]], fallback: str) -> str:
    """``slack:<team id>``, else a hash of the oldest channel's id, else a hash of ``fallback``."""
    team = team_id(users)
    if team:
        return f"slack:{team}"
    oldest: tuple[float, str] | None = None
    for entries in channel_lists:
        for c in entries:
            if isinstance(c, dict) and (cid := _str(c.get("id"))):
                created = c.get("created")
                key = (float(created) if isinstance(created, int | float) else float("inf"), cid)
                oldest = key if oldest is None or key < oldest else oldest
    seed = oldest[1] if oldest else fallback
    return "slack:h" + hashlib.sha1(seed.encode()).hexdigest()[:12]


def people_from_users(users: list[Any], source: str) -> tuple[list[Person], dict[str, str]]:
    """People for the entries of users.json, and ``user id -> handle`` for rewriting mentions."""
    team = source.removeprefix("slack:")
    entries = [u for u in users if isinstance(u, dict) and _str(u.get("id"))]
    displays = Counter(normalize_alias(AliasKind.HANDLE, d) for u in entries if (d := _display(u)))
    reals = Counter(normalize_alias(AliasKind.NAME, r) for u in entries if (r := _real_name(u)))
    people: list[Person] = []
    handles: dict[str, str] = {}
    for u in entries:
        uid = str(u["id"]).strip()
        profile = as_dict(u.get("profile"))
        handle, display, real = _str(u.get("name")), _display(u), _real_name(u)
        aliases = [Alias(AliasKind.SLACK, f"{team}:{uid}")]
        if email := _str(profile.get("email")):
            aliases.append(Alias(AliasKind.EMAIL, email))
        if handle:
            aliases.append(Alias(AliasKind.HANDLE, handle))
        same = handle is not None and display is not None and display.lower() == handle.lower()
        if display and not same and displays[normalize_alias(AliasKind.HANDLE, display)] == 1:
            aliases.append(Alias(AliasKind.HANDLE, display))
        if real and reals[normalize_alias(AliasKind.NAME, real)] == 1:
            aliases.append(Alias(AliasKind.NAME, real))
        meta: dict[str, Any] = {"handle": handle} if handle else {}
        if u.get("deleted"):
            meta["deleted"] = True
        people.append(
            Person(
                source=source,
                external_id=uid,
                name=real or display or handle or uid,
                aliases=aliases,
                role=_str(profile.get("title")),
                timezone=_str(u.get("tz")),
                is_bot=bool(u.get("is_bot")) or uid == "USLACKBOT",
                meta=meta,
                listed=True,  # the workspace's user list
            )
        )
        handles[uid] = display or handle or real or uid
    return people, handles


def _display(u: dict[str, Any]) -> str | None:
    profile = u.get("profile")
    return _str(profile.get("display_name")) if isinstance(profile, dict) else None


def _real_name(u: dict[str, Any]) -> str | None:
    profile = u.get("profile")
    return _str(u.get("real_name")) or (_str(profile.get("real_name")) if isinstance(profile, dict) else None)


def channels_from(file: str, entries: list[Any], source: str, handles: dict[str, str]) -> list[Channel]:
    """The conversations listed in one metadata file (see :data:`CHANNEL_FILES`)."""
    kind, visibility = CHANNEL_FILES[file]
    out: list[Channel] = []
    for c in entries:
        if not isinstance(c, dict) or not (cid := _str(c.get("id"))):
            continue
        members = (
            [m for m in c.get("members") or [] if isinstance(m, str)] if isinstance(c.get("members"), list) else []
        )
        if file == "dms.json":
            name = "dm: " + ", ".join(sorted(handles.get(m, m) for m in members)) if members else f"dm {cid}"
            folder = cid
        else:
            name = _str(c.get("name")) or cid
            folder = name
        purpose, topic = _value(c.get("purpose")), _value(c.get("topic"))
        meta: dict[str, Any] = {"folder": folder}
        if topic:
            meta["topic"] = topic
        if c.get("is_archived"):
            meta["archived"] = True
        if isinstance(c.get("created"), int | float):
            meta["created"] = c["created"]
        space = Space(
            source=source,
            external_id=cid,
            kind=kind,
            name=name,
            visibility=visibility,
            description=purpose or topic,
            member_refs=list(dict.fromkeys(members)),
            meta=meta,
        )
        out.append(Channel(id=cid, name=name, folder=folder, space=space))
    return out


def _value(field: object) -> str | None:
    return _str(field.get("value")) if isinstance(field, dict) else None


def unknown_channel(folder: str, source: str) -> Channel:
    """A folder with daily files but no entry in the metadata files: a private channel without members
    (so nobody but an administrator sees it until its membership is known), named after the folder."""
    cid = f"folder:{folder}"
    space = Space(
        source=source,
        external_id=cid,
        kind=SpaceKind.CHANNEL,
        name=folder,
        visibility=Visibility.PRIVATE,
        meta={"folder": folder, "unlisted": True},
    )
    return Channel(id=cid, name=folder, folder=folder, space=space)
