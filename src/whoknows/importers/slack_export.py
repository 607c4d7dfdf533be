"""The official Slack workspace export (a .zip or its extracted folder).

Layout: ``users.json``, ``channels.json`` (public channels), optional ``groups.json`` (private channels),
``mpims.json`` (group DMs), ``dms.json`` (DMs), and one folder per conversation (the channel name; the id
for DMs) with one ``YYYY-MM-DD.json`` file per day holding a list of messages.

Mapping (people, spaces and the source key are described in :mod:`.slack_directory`):

* Threads: a message whose ``thread_ts`` is missing or equals its ``ts`` starts a thread (so every
  non-threaded channel message is a thread of its own); a message with another ``thread_ts`` (a reply, also
  a ``thread_broadcast``) joins the thread of its parent and replies to it. Ids: thread
  ``<channel id>/<thread_ts>``, message ``<channel id>/<ts>``, so a reply's parent and thread have the
  same id.
* Kind: a thread starter that asks something (:func:`.questions.looks_like_question`) is a ``question``,
  everything else a ``message``.
* Text: Slack markup rewritten (:mod:`.slack_text`); an empty text falls back to the attachments'
  ``fallback``/``text``; texts longer than :data:`MAX_TEXT_CHARS` are cut with a warning and
  ``meta.truncated_from`` (the original length).
* ``reactions`` -> ``{name: count}``, ``edited.ts`` -> ``edited_at``, ``files`` -> ``meta.files`` (names and
  titles only, never contents).
* Subtypes in :data:`SKIPPED_SUBTYPES` (joins, leaves, topic/purpose/name changes, pins …) are not messages:
  they are counted in :attr:`SlackExportReader.skipped` and summarised in one warning per subtype.
  ``bot_message`` is kept, authored by the bot user (or a bot person made from ``bot_id``/``username``).
  A ``tombstone`` (a message deleted at the source, left in the export for its replies) is kept as an empty message
  without author: a newer export then replaces the deleted text in the store and everything derived from it.

Bad input: an invalid JSON file is skipped with a warning naming the file, line and column; a message with a
missing or out-of-range ``ts`` (before 2000 or after 2099) is skipped with a warning; a message from a user
who is not in users.json is kept and its author becomes a *placeholder* person (``meta.placeholder``, named
after ``user_profile.real_name`` when the message carries it), with one warning per unknown user; a folder
of daily files that no metadata file lists is imported as a *private channel without members* named after
the folder (see :func:`.slack_directory.unknown_channel`), with a warning. Zip safety: :mod:`.export_archive`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from whoknows.importers.base import ImportError_, SourceReader, loads_json
from whoknows.importers.export_archive import ExportArchive
from whoknows.importers.json_bounds import DEFAULT_BOUNDS, JsonBoundError
from whoknows.importers.questions import looks_like_question
from whoknows.importers.slack_directory import (
    CHANNEL_FILES,
    Channel,
    as_dict,
    channels_from,
    people_from_users,
    source_key,
    unknown_channel,
)
from whoknows.importers.slack_text import parse_ts, rewrite_markup
from whoknows.model import Batch, Message, MessageKind, Person, Thread

#: Longest message text kept, in characters; longer texts are truncated with a warning.
MAX_TEXT_CHARS = 100_000

SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_purpose",
        "channel_topic",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "group_join",
        "group_leave",
        "group_purpose",
        "group_topic",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "bot_enable",
        "bot_disable",
        "reminder_add",
        "joiner_notification",
        "joiner_notification_for_inviter",
        "slackbot_response",
        "sh_room_created",
        "huddle_thread",
        "channel_posting_permissions",
        "app_conversation_join",
    }
)
_DAY_FILE = re.compile(r"^([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_TITLE_CHARS = 200


class SlackExportReader(SourceReader):
    kind = "slack"
    description = "Slack workspace export (.zip or extracted folder)"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        #: Archive limits (see :class:`.ExportArchive`); tests and operators may lower or raise them.
        self.limits: dict[str, float] = {}
        #: Bounds on every JSON file (see :mod:`.json_bounds`); a file past them stops the import.
        self.json_bounds = DEFAULT_BOUNDS
        self.skipped: Counter[str] = Counter()
        self._archive: ExportArchive | None = None
        self._pending = Batch()
        self._known_people: set[str] = set()
        self._handles: dict[str, str] = {}
        self._channel_names: dict[str, str] = {}
        self._source: str | None = None
        self._users: list[Any] = []
        self._lists: dict[str, list[Any]] = {}

    # -- SourceReader ---------------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        if self._source is None:
            self.validate()
        assert self._source is not None
        return self._source

    def validate(self) -> None:
        if self._archive is not None:
            return
        archive = ExportArchive(self.path, self.warn, limits=self.limits)
        if "users.json" not in archive and "channels.json" not in archive:
            archive.close()
            raise ImportError_(
                f"{self.path}: not a Slack export (no users.json or channels.json found)",
                code="import.not_slack",
            )
        self._archive = archive
        users = self._load_list("users.json")
        self._users = users or []
        for file in CHANNEL_FILES:
            self._lists[file] = self._load_list(file) or []
        self._source = source_key(self._users, self._lists.values(), self.path.name)

    def total_hint(self) -> int | None:
        """Bytes of daily files divided by the bytes per message of a few sampled files."""
        self.validate()
        assert self._archive is not None
        days = [n for n in self._archive.names() if _DAY_FILE.match(n)]
        total = sum(self._archive.size(n) for n in days)
        sample_bytes = sample_msgs = 0
        for name in days[:: max(1, len(days) // 3)][:3]:
            parsed = self._load_json(name, quiet=True)
            if isinstance(parsed, list):
                sample_bytes, sample_msgs = sample_bytes + self._archive.size(name), sample_msgs + len(parsed)
        if not sample_msgs:
            return None
        return round(total * sample_msgs / max(sample_bytes, 1))

    def batches(self) -> Iterator[Batch]:
        self.validate()
        archive = self._archive
        assert archive is not None and self._source is not None
        try:
            yield from self._batches(archive, self._source)
        finally:
            archive.close()
            self._archive = None
        for subtype, n in sorted(self.skipped.items()):
            self.warn(self.path, None, f"skipped {n} {subtype} message(s) (not conversation)")

    # -- internals ------------------------------------------------------------------------------------------
    def _load_list(self, name: str) -> list[Any] | None:
        data = self._load_json(name)
        if data is None:
            return None
        if not isinstance(data, list):
            assert self._archive is not None
            self.warn(self._archive.display(name), None, "expected a JSON list; file skipped")
            return None
        return data

    def _load_json(self, name: str, *, quiet: bool = False) -> Any:
        """The file's JSON value, or None (with a warning unless ``quiet``) if it cannot be read; a file past
        :attr:`json_bounds` raises :class:`ImportError_` naming it."""
        archive = self._archive
        assert archive is not None
        if name not in archive:
            return None
        data = archive.read(name)
        if data is None:
            return None
        try:
            value, replaced = loads_json(data, self.json_bounds)
        except JsonBoundError as exc:
            raise ImportError_(f"{archive.display(name)}: {exc.message}", code=exc.code) from None
        except (ValueError, RecursionError) as exc:
            if not quiet:
                self._invalid(archive.display(name), exc)
        else:
            if replaced and not quiet:
                self.warn(archive.display(name), None, f"{replaced} invalid \\u escape(s) (lone surrogates) replaced")
            return value
        return None

    def _invalid(self, file: str, exc: ValueError | RecursionError) -> None:
        if isinstance(exc, json.JSONDecodeError):
            self.warn(file, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON ({exc.msg}); file skipped")
        elif isinstance(exc, UnicodeDecodeError):
            self.warn(file, f"byte {exc.start}", "not UTF-8 text; file skipped")
        else:
            self.warn(file, None, f"invalid JSON ({type(exc).__name__}); file skipped")

    def _batches(self, archive: ExportArchive, source: str) -> Iterator[Batch]:
        people, handles = people_from_users(self._users, source)
        self._known_people = {p.external_id for p in people}
        channels: list[Channel] = []
        for file, entries in self._lists.items():
            channels += channels_from(file, entries, source, handles)
        by_folder: dict[str, Channel] = {}
        for ch in channels:
            by_folder.setdefault(ch.folder, ch)
        for ch in channels:
            by_folder.setdefault(ch.id, ch)
        self._handles = handles
        self._channel_names = {ch.id: ch.name for ch in channels}
        for start in range(0, len(people), self.batch_size):
            yield Batch(people=people[start : start + self.batch_size])
        spaces = list({ch.id: ch.space for ch in channels}.values())
        for start in range(0, len(spaces), self.batch_size):
            yield Batch(spaces=spaces[start : start + self.batch_size])

        days: dict[str, list[str]] = {}
        for name in archive.names():
            if m := _DAY_FILE.match(name):
                days.setdefault(m.group(1), []).append(name)
        self._pending = Batch()
        for folder in sorted(days):
            channel = by_folder.get(folder)
            if channel is None:
                channel = unknown_channel(folder, source)
                self.warn(
                    archive.display(folder),
                    None,
                    "folder of daily files not listed in channels.json, "
                    "groups.json, mpims.json or dms.json; imported as a private channel without members",
                )
                self._pending.spaces.append(channel.space)
            started: set[str] = set()
            for name in sorted(days[folder]):
                # Messages, and the threads and placeholder people they need, go into self._pending.
                for _ in self._day(archive, name, channel, source, started):
                    if len(self._pending.messages) >= self.batch_size:
                        yield self._pending
                        self._pending = Batch()
        if len(self._pending):
            yield self._pending

    def _day(
        self, archive: ExportArchive, name: str, channel: Channel, source: str, started: set[str]
    ) -> Iterator[Message]:
        data = self._load_json(name)
        if data is None:
            return
        if not isinstance(data, list):
            self.warn(archive.display(name), None, "expected a JSON list of messages; file skipped")
            return
        file = archive.display(name)
        rows: list[tuple[datetime, int, dict[str, Any]]] = []
        for index, raw in enumerate(data, 1):
            ts = raw.get("ts") if isinstance(raw, dict) else None
            when = parse_ts(ts)
            if when is None or not isinstance(raw, dict):
                what = (
                    "not a message object"
                    if not isinstance(raw, dict)
                    else (f"missing or out-of-range timestamp ts={ts!r}")
                )
                self.warn(file, f"record {index}", f"{what}; skipped")
                continue
            rows.append((when, index, raw))
        rows.sort(key=lambda r: (r[0], r[1]))
        for created, index, raw in rows:
            message = self._message(file, index, raw, created, channel, source, started)
            if message is not None:
                self._pending.messages.append(message)
                yield message

    def _message(
        self,
        file: str,
        index: int,
        raw: dict[str, Any],
        created: datetime,
        channel: Channel,
        source: str,
        started: set[str],
    ) -> Message | None:
        subtype = raw.get("subtype") if isinstance(raw.get("subtype"), str) else None
        if subtype in SKIPPED_SUBTYPES:
            self.skipped[str(subtype)] += 1
            return None
        if subtype == "tombstone":  # deleted at the source (left only for its replies): it replaces the stored text
            raw = {"ts": raw["ts"], "thread_ts": raw.get("thread_ts"), "text": ""}
        ts = str(raw["ts"])
        thread_ts = raw.get("thread_ts")
        if not isinstance(thread_ts, str) or (thread_ts != ts and parse_ts(thread_ts) is None):
            thread_ts = ts
        is_reply = thread_ts != ts
        cid = channel.id
        thread_ref = f"{cid}/{thread_ts}"
        author = self._author(file, index, raw, subtype, source)
        text, meta = self._text(file, index, raw)
        if subtype:
            meta["subtype"] = subtype
        if thread_ref not in started:
            started.add(thread_ref)
            title = None if is_reply else (text.strip().split("\n", 1)[0][:_TITLE_CHARS] or None)
            self._pending.threads.append(
                Thread(
                    source=source,
                    external_id=thread_ref,
                    space_ref=cid,
                    title=title,
                    created_at=created if not is_reply else parse_ts(thread_ts),
                )
            )
        kind = MessageKind.QUESTION if not is_reply and looks_like_question(text) else MessageKind.MESSAGE
        edited = raw.get("edited")
        return Message(
            source=source,
            external_id=f"{cid}/{ts}",
            thread_ref=thread_ref,
            author_ref=author,
            created_at=created,
            text=text,
            kind=kind,
            reply_to_ref=thread_ref if is_reply else None,
            reactions=_reactions(raw.get("reactions")),
            edited_at=parse_ts(edited.get("ts")) if isinstance(edited, dict) else None,
            meta=meta,
        )

    def _author(self, file: str, index: int, raw: dict[str, Any], subtype: str | None, source: str) -> str | None:
        user = raw.get("user")
        uid = user if isinstance(user, str) and user else None
        if uid is None and isinstance(raw.get("bot_id"), str) and raw["bot_id"]:
            uid = str(raw["bot_id"])
            if uid not in self._known_people:
                profile = as_dict(raw.get("bot_profile"))
                name = raw.get("username") or profile.get("name") or uid
                self._known_people.add(uid)
                self._pending.people.append(
                    Person(source=source, external_id=uid, name=str(name), is_bot=True, meta={"bot": True})
                )
            return uid
        if uid is None:
            return None
        if uid not in self._known_people:
            profile = as_dict(raw.get("user_profile"))
            name = profile.get("real_name") or profile.get("display_name") or profile.get("name") or uid
            self._known_people.add(uid)
            self._pending.people.append(
                Person(
                    source=source,
                    external_id=uid,
                    name=str(name),
                    is_bot=subtype == "bot_message",
                    meta={"placeholder": True},
                )
            )
            self.warn(
                file,
                f"record {index}",
                f"unknown user {uid} (not in users.json); created a placeholder person",
            )
        return uid

    def _text(self, file: str, index: int, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        meta: dict[str, Any] = {}
        text = raw.get("text")
        text = text if isinstance(text, str) else "" if text is None else str(text)
        if not text.strip() and isinstance(raw.get("attachments"), list):
            text = "\n".join(
                str(a.get("fallback") or a.get("text") or "") for a in raw["attachments"] if isinstance(a, dict)
            ).strip()
        if len(text) > MAX_TEXT_CHARS:
            self.warn(
                file,
                f"record {index}",
                f"message text of {len(text):,} characters truncated to {MAX_TEXT_CHARS:,}",
            )
            meta["truncated_from"] = len(text)
            text = text[:MAX_TEXT_CHARS]
        text = rewrite_markup(text, self._handles, self._channel_names)
        files = raw.get("files")
        if isinstance(files, list):
            kept = [{k: str(f[k]) for k in ("name", "title") if f.get(k)} for f in files if isinstance(f, dict)]
            if kept := [f for f in kept if f]:
                meta["files"] = kept
        return text, meta


def _reactions(value: object) -> dict[str, int]:
    out: dict[str, int] = {}
    if not isinstance(value, list):
        return out
    for r in value:
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            count = r.get("count")
            if not isinstance(count, int) or isinstance(count, bool):
                users = r.get("users")
                count = len(users) if isinstance(users, list) else 1
            out[r["name"]] = out.get(r["name"], 0) + max(count, 0)
    return out
