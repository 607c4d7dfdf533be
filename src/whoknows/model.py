"""Domain types shared by importers, the store and every derived component.

Importers produce these objects and never write SQL; the store turns them into rows. The same types come back
from the store with their integer ``id`` (and resolved ``*_id`` references) filled in.

References between records of one import are made by *external id* (``*_ref`` fields), because an importer
does not know the store's integer ids. Every record carries its provenance: ``source`` (a stable key of the
system it came from, e.g. ``slack:T024BE7LD`` or ``stackexchange:beer.stackexchange.com``) and ``external_id``
(its id in that system). ``(source, external_id)`` is unique per record type, which makes imports idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class SpaceKind(StrEnum):
    CHANNEL = "channel"  # chat channel (Slack, Teams ...)
    DM = "dm"  # direct or group direct messages
    MAILBOX = "mailbox"  # a mailbox or mailing list
    QA_SITE = "qa_site"  # internal Q&A site (Stack Exchange-like)
    TICKET_QUEUE = "ticket_queue"  # helpdesk queue
    CRM = "crm"  # CRM notes (opportunities, accounts)


class Visibility(StrEnum):
    PUBLIC = "public"  # everybody in the organisation may read
    PRIVATE = "private"  # only members may read


class MessageKind(StrEnum):
    QUESTION = "question"
    ANSWER = "answer"
    COMMENT = "comment"
    MESSAGE = "message"


class AliasKind(StrEnum):
    EMAIL = "email"
    SLACK = "slack"  # Slack user id (U…) scoped by workspace in the value
    HANDLE = "handle"  # chat handle / display name
    STACKEXCHANGE = "stackexchange"  # site:user id
    NAME = "name"  # full name as written in a source
    EXTERNAL = "external"  # any other system id (helpdesk, CRM)


@dataclass(slots=True)
class Alias:
    kind: AliasKind
    value: str

    def normalized(self) -> str:
        return normalize_alias(self.kind, self.value)


def normalize_alias(kind: AliasKind | str, value: str) -> str:
    """The form under which aliases are compared: e-mail addresses and handles are case-insensitive."""
    value = value.strip()
    if kind in (AliasKind.EMAIL, AliasKind.HANDLE, AliasKind.NAME):
        return " ".join(value.lower().split())
    return value


@dataclass(slots=True)
class Person:
    source: str
    external_id: str
    name: str
    aliases: list[Alias] = field(default_factory=list)
    department: str | None = None
    team: str | None = None
    role: str | None = None  # job title, e.g. "Account Executive"
    timezone: str | None = None  # IANA name, e.g. "Europe/Berlin"
    opted_out: bool = False
    is_bot: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    #: The source lists this person as a member of the organisation (a workspace's user list, a staff list),
    #: not just as someone seen in a conversation: anyone signed in may look them up.
    listed: bool = False


@dataclass(slots=True)
class Space:
    source: str
    external_id: str
    kind: SpaceKind
    name: str
    visibility: Visibility = Visibility.PUBLIC
    description: str | None = None
    member_refs: list[str] = field(default_factory=list)  # external ids of people (same source)
    #: True: ``member_refs`` is the complete member list (an export's channel members), so people missing from
    #: it lose access. False: members are only *added* (a mailbox or queue whose members are inferred from
    #: the messages of one file, which says nothing about people who are not in it).
    members_complete: bool = True
    meta: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class Thread:
    source: str
    external_id: str
    space_ref: str
    title: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    space_id: int | None = None


@dataclass(slots=True)
class Message:
    source: str
    external_id: str
    thread_ref: str
    author_ref: str | None  # None for system or unknown authors
    created_at: datetime
    text: str
    kind: MessageKind = MessageKind.MESSAGE
    reply_to_ref: str | None = None
    score: int = 0  # votes (Q&A sites) or a source's own score
    reactions: dict[str, int] = field(default_factory=dict)  # reaction name -> count
    accepted: bool = False  # marked as the accepted answer / solution by the asker
    edited_at: datetime | None = None
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    thread_id: int | None = None
    space_id: int | None = None
    author_id: int | None = None
    reply_to_id: int | None = None


@dataclass(slots=True)
class Batch:
    """A unit of work an importer hands to the store; it is written in one transaction."""

    people: list[Person] = field(default_factory=list)
    spaces: list[Space] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.people) + len(self.spaces) + len(self.threads) + len(self.messages)


@dataclass(slots=True)
class WriteStats:
    """What a write did, per record type: ``{"messages": {"new": 10, "updated": 0, "skipped": 2}}``."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        per = self.counts.setdefault(kind, {"new": 0, "updated": 0, "skipped": 0, "rejected": 0})
        per[outcome] = per.get(outcome, 0) + n

    def merge(self, other: WriteStats) -> None:
        for kind, per in other.counts.items():
            for outcome, n in per.items():
                self.add(kind, outcome, n)

    def total(self, outcome: str) -> int:
        return sum(per.get(outcome, 0) for per in self.counts.values())
