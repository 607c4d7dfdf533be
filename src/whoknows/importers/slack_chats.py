"""Disentangled Slack chats (Chatterjee et al., MSR 2020): XML files of ``<message conversation_id=..>``
with ``<ts>``, ``<user>`` and ``<text>``, a file per channel and year. Takes a file or folder (``**/*.xml``).

Mapping (decided on the racket #general data, 2017-2019):

- one public ``channel`` space per team and channel (``<team_domain>``/``<channel_name>`` in the file, else
  the file name ``racket-general-2017.xml``), named ``racket #general`` unless ``--space-name`` is given;
- one thread per conversation. Conversation ids restart in every file, so a thread is keyed by the channel and
  the timestamp of its first message (Slack's ``ts`` is unique per channel), which stays stable across renamed
  or re-split files; messages are keyed by channel and ``ts`` the same way;
- the first message of a conversation is a ``question`` when it looks like one
  (:func:`whoknows.importers.questions.looks_like_question`: 1,176 of the 2,364 openers here), else a plain
  ``message`` (greetings, announcements, remarks the disentangler split off). Later messages are ``message``;
- a reply by someone other than the asker replies to the first message, or, when it opens by mentioning
  (``<@Name>``) someone who spoke earlier in the conversation, to that person's latest message there. The
  asker's own follow-ups reply to the person they mention, else to nothing;
- people are the (anonymised) user names, one person per team and name, with a ``handle`` alias
  ``<team>:<name>``: the names are pseudonyms, so an unscoped handle would merge strangers across teams;
- timestamps are naive ISO times converted from Slack's epoch ``ts``: read as UTC.

Files are streamed and assumed in time order (they are); memory grows with the conversations of one file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whoknows.importers.base import ImportError_, SourceReader
from whoknows.importers.export_folder import export_files
from whoknows.importers.questions import looks_like_question
from whoknows.importers.slack_text import rewrite_markup
from whoknows.importers.xml_records import (
    MAX_TEXT,
    TimestampError,
    XmlRecord,
    estimate_count,
    parse_timestamp,
    read_xml_records,
)
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread

_MENTION = re.compile(r"<@([^>|]+)(?:\|[^>]*)?>")


@dataclass(slots=True)
class _Channel:
    team: str
    channel: str

    @property
    def key(self) -> str:
        return f"{self.team}#{self.channel}"


@dataclass(slots=True)
class _Conversation:
    thread_ref: str
    first_ref: str
    asker: str
    latest: dict[str, str] = field(default_factory=dict)  # user -> their latest message in the conversation


class SlackChatsXmlReader(SourceReader):
    kind = "slack-chats"
    description = "Disentangled Slack chats (XML <message conversation_id=..>): one file or a folder of them"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        self.files: list[tuple[Path, _Channel]] = []

    @property
    def source(self) -> str:
        teams = sorted({ch.team for _, ch in self.files})
        return ",".join(_source(t) for t in teams) if teams else "slack-chats"

    def validate(self) -> None:
        if self.path.is_dir():
            files = [p for p in export_files(self.path) if p.name.endswith(".xml")]  # refuses links leaving it
            if not files:
                raise ImportError_(f"{self.path}: no *.xml files; expected disentangled Slack chat XML")
        elif self.path.is_file():
            files = [self.path]
        else:
            raise ImportError_(f"{self.path}: no such file or folder")
        self.files = [(f, self._channel_of(f)) for f in files]

    def _channel_of(self, path: Path) -> _Channel:
        """Team and channel from the file's header elements, else from its name; raises for non-chat files."""
        header: dict[str, str] = {}
        problems: list[str] = []
        try:
            with open(path, "rb") as fh:
                note = lambda *issue: problems.append(str(issue[2]))  # noqa: E731
                for record in read_xml_records(fh, str(path), note, root="slack"):
                    if record.tag == "message":
                        break
                    header[record.tag] = " ".join(record.fields.get("", "").split())
                else:
                    if any("stopped reading" in p for p in problems):  # cut off before its first message
                        raise ImportError_(f"{path}: {problems[-1]}")
        except OSError as exc:
            raise ImportError_(f"{path}: cannot read ({exc})") from None
        team, channel = header.get("team_domain", ""), header.get("channel_name", "")
        if not team or not channel:
            stem = re.sub(r"^merged-|[-_]\d{4}$", "", path.stem)
            guess_team, _, guess_channel = stem.partition("-")
            team, channel = team or guess_team or "slack", channel or guess_channel or "general"
        return _Channel(team.lower(), channel.lower())

    def total_hint(self) -> int | None:
        if not self.files:
            self.validate()
        total = 0
        for path, _ in self.files:
            with open(path, "rb") as fh:
                total += estimate_count(fh, b"<message", path.stat().st_size)
        return total

    def batches(self) -> Iterator[Batch]:
        if not self.files:
            self.validate()
        names = {ch.key for _, ch in self.files}
        batch = Batch()
        known_spaces: set[str] = set()
        known_people: set[str] = set()
        for path, channel in self.files:
            if channel.key not in known_spaces:
                known_spaces.add(channel.key)
                batch.spaces.append(self._space(channel, several=len(names) > 1))
            conversations: dict[str, _Conversation] = {}
            seen_ts: set[str] = set()
            with open(path, "rb") as fh:
                for record in read_xml_records(fh, str(path), self.warn, root="slack"):
                    if record.tag != "message":
                        continue
                    made = self._message(record, channel, conversations, seen_ts)
                    if made is None:
                        continue
                    person, thread, message = made
                    if person.external_id not in known_people:
                        known_people.add(person.external_id)
                        batch.people.append(person)
                    if thread is not None:
                        batch.threads.append(thread)
                    batch.messages.append(message)
                    if len(batch) >= self.batch_size:
                        yield batch
                        batch = Batch()
        if len(batch):
            yield batch

    def _space(self, channel: _Channel, *, several: bool) -> Space:
        name = f"{channel.team} #{channel.channel}"
        if self.space_name:
            name = f"{self.space_name} #{channel.channel}" if several else self.space_name
        return Space(
            source=_source(channel.team),
            external_id=channel.key,
            kind=SpaceKind.CHANNEL,
            name=name,
            description=f"Slack channel #{channel.channel} of {channel.team} (disentangled chat export)",
        )

    def _message(
        self, record: XmlRecord, channel: _Channel, conversations: dict[str, _Conversation], seen_ts: set[str]
    ) -> tuple[Person, Thread | None, Message] | None:
        where = f"line {record.line}"
        conv_id = record.attrs.get("conversation_id", "").strip()
        user = " ".join(record.fields.get("user", "").split())
        raw_ts = record.fields.get("ts", "").strip()
        if not conv_id or not user or not raw_ts:
            missing = [n for n, v in (("conversation_id", conv_id), ("user", user), ("ts", raw_ts)) if not v]
            self.warn(record.file, where, f"message without {', '.join(missing)}; skipped")
            return None
        try:
            created = parse_timestamp(raw_ts)
        except TimestampError as exc:
            self.warn(record.file, where, f"{exc}; message skipped")
            return None
        raw_text = record.fields.get("text", "")
        if not raw_text.strip():
            self.warn(record.file, where, "message with empty text; skipped")
            return None
        text, mentions = slack_to_text(raw_text)
        meta: dict[str, object] = {"conversation_id": conv_id}
        if mentions:
            meta["mentions"] = mentions
        if len(text) > MAX_TEXT:
            self.warn(record.file, where, f"text of {len(text):,} characters cut to {MAX_TEXT:,}")
            text, meta["truncated"] = text[:MAX_TEXT], True
        ext = _message_id(channel, created, seen_ts)
        source = _source(channel.team)
        person_ref = f"{channel.team}:{user}"
        person = Person(
            source=source,
            external_id=person_ref,
            name=user[:300],
            aliases=[Alias(AliasKind.HANDLE, person_ref)],
        )
        conversation = conversations.get(conv_id)
        thread: Thread | None = None
        if conversation is None:
            conversation = _Conversation(thread_ref=ext, first_ref=ext, asker=user)
            conversations[conv_id] = conversation
            title = text.strip().splitlines()[0][:200] if text.strip() else None
            thread = Thread(
                source=source,
                external_id=ext,
                space_ref=channel.key,
                title=title,
                created_at=created,
                meta={"conversation_id": conv_id, "file": record.file.rsplit("/", 1)[-1]},
            )
            kind = MessageKind.QUESTION if looks_like_question(text) else MessageKind.MESSAGE
            reply_to = None
        else:
            kind = MessageKind.MESSAGE
            addressed = next(
                (conversation.latest[m] for m in _leading_mentions(raw_text) if m in conversation.latest and m != user),
                None,
            )
            reply_to = addressed or (conversation.first_ref if user != conversation.asker else None)
        conversation.latest[user] = ext
        message = Message(
            source=source,
            external_id=ext,
            thread_ref=conversation.thread_ref,
            author_ref=person_ref,
            created_at=created,
            text=text,
            kind=kind,
            reply_to_ref=reply_to,
            meta=meta,
        )
        return person, thread, message


def slack_to_text(raw: str) -> tuple[str, list[str]]:
    """Plain text (Slack markup rewritten by :mod:`whoknows.importers.slack_text`) and the mentioned names."""
    mentions = list(dict.fromkeys(m.strip() for m in _MENTION.findall(raw)))
    return rewrite_markup(raw, {}, {}).strip(), mentions


def _leading_mentions(raw: str) -> list[str]:
    """Names mentioned at the start of a message (``<@A> <@B> thanks``): whom it addresses."""
    names: list[str] = []
    rest = raw.lstrip()
    while (m := _MENTION.match(rest)) is not None:
        names.append(m.group(1).strip())
        rest = rest[m.end() :].lstrip(" ,:")
    return names


def _message_id(channel: _Channel, created: datetime, seen: set[str]) -> str:
    """``team#channel@<UTC ts>``; a second message with the same ts in one file gets ``~2``, ``~3`` ..."""
    base = f"{channel.key}@{created.strftime('%Y-%m-%dT%H:%M:%S.%f')}"
    ext, n = base, 1
    while ext in seen:
        n += 1
        ext = f"{base}~{n}"
    seen.add(ext)
    return ext


def _source(team: str) -> str:
    return f"slack-chats:{team}"
