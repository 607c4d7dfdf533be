"""CRM notes from CSV or JSON Lines (schema and column aliases: ``docs/formats.md``, "CRM notes").

Mapping:

* Source key ``crm:<slug of --space-name, default "default">``; one private space of kind ``crm``
  (external id ``crm``, named ``--space-name`` or "CRM notes") whose members are all note authors.
* One thread per opportunity (external id ``opp:<account>:<opportunity>``, title ``<account> — <opportunity>``),
  or per account for notes without an opportunity (``account:<account>``); thread meta holds account,
  opportunity and the stage of its latest note.
* Notes (external id ``note:<note id>``, meta ``stage``) in time order. The first note of a thread is a
  ``question`` when it asks something (:func:`.questions.looks_like_question`), else a ``message``. A note
  with ``reply_to`` replies to that note; when the note it replies to is a question and the author differs,
  it is an ``answer``. Every other note is a ``message``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoknows.importers.base import SourceReader
from whoknows.importers.contacts import person_from_text, slug
from whoknows.importers.questions import looks_like_question
from whoknows.importers.tabular import TableFile, parse_datetime
from whoknows.model import Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility

NOTE_COLUMNS: dict[str, tuple[str, ...]] = {
    "note_id": ("note id", "id", "note", "activity id"),
    "account": ("account name", "company", "customer", "organization"),
    "opportunity": ("opportunity name", "deal", "deal name", "opp"),
    "stage": ("deal stage", "opportunity stage", "sales stage"),
    "author": ("author email", "owner", "created by", "user", "rep"),
    "created_at": ("created", "created date", "date", "timestamp"),
    "body": ("text", "content", "notes", "description", "note body"),
    "reply_to": ("reply to", "parent id", "in reply to", "parent note id"),
}
REQUIRED = ("note_id", "account", "author", "created_at", "body")
SPACE_REF = "crm"


class CrmNotesReader(SourceReader):
    kind = "crm"
    description = "CRM notes on accounts and opportunities (CSV or JSON Lines, see docs/formats.md)"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        self.table = TableFile(path, NOTE_COLUMNS, REQUIRED, self.warn)
        self._validated = False

    @property
    def source(self) -> str:
        return f"crm:{slug(self.space_name or 'default')}"

    def validate(self) -> None:
        if not self._validated:
            self.table.validate()
            self._validated = True

    def total_hint(self) -> int | None:
        return max(1, self.path.stat().st_size // 300)

    def _notes(self) -> dict[str, list[dict[str, Any]]]:
        """thread id -> its notes sorted by time."""
        threads: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        for record in self.table.records():
            v = {k: str(val).strip() for k, val in record.values.items()}
            created = parse_datetime(record.values["created_at"])
            if created is None:
                self.warn(self.path, record.where, f"invalid created_at {v['created_at']!r}; skipped")
                continue
            if v["note_id"] in seen:
                self.warn(self.path, record.where, f"duplicate note id {v['note_id']!r}; skipped")
                continue
            seen.add(v["note_id"])
            opp = v.get("opportunity")
            thread = f"opp:{v['account']}:{opp}" if opp else f"account:{v['account']}"
            threads.setdefault(thread, []).append({**v, "created_at": created})
        for notes in threads.values():
            notes.sort(key=lambda n: n["created_at"])
        return threads

    def batches(self) -> Iterator[Batch]:
        self.validate()
        source = self.source
        threads = self._notes()
        people: dict[str, Person] = {}
        for notes in threads.values():
            for note in notes:
                person = person_from_text(note["author"], source)
                assert person is not None  # author is required and non-empty
                note["author_ref"] = person.external_id
                people.setdefault(person.external_id, person)
        person_list = list(people.values())
        for start in range(0, len(person_list), self.batch_size):
            yield Batch(people=person_list[start : start + self.batch_size])
        yield Batch(spaces=[Space(members_complete=False, source=source, external_id=SPACE_REF, kind=SpaceKind.CRM,
                                  name=self.space_name or "CRM notes", visibility=Visibility.PRIVATE,
                                  member_refs=list(people))])  # fmt: skip
        pending = Batch()
        kinds: dict[str, tuple[MessageKind, str]] = {}  # note id -> (kind, author) for reply classification
        for thread_id, notes in threads.items():
            first = notes[0]
            title = f"{first['account']} — {first['opportunity']}" if first.get("opportunity") else first["account"]
            meta = {k: notes[-1][k] for k in ("account", "opportunity", "stage") if notes[-1].get(k)}
            pending.threads.append(Thread(source=source, external_id=thread_id, space_ref=SPACE_REF, title=title,
                                          created_at=first["created_at"], meta=meta))  # fmt: skip
            for i, note in enumerate(notes):
                parent = note.get("reply_to")
                if i == 0 and not parent:
                    kind = MessageKind.QUESTION if looks_like_question(note["body"]) else MessageKind.MESSAGE
                elif parent and kinds.get(parent, (None, None))[0] == MessageKind.QUESTION and (
                        kinds[parent][1] != note["author_ref"]):  # fmt: skip
                    kind = MessageKind.ANSWER
                else:
                    kind = MessageKind.MESSAGE
                kinds[note["note_id"]] = (kind, note["author_ref"])
                pending.messages.append(Message(
                    source=source, external_id=f"note:{note['note_id']}", thread_ref=thread_id,
                    author_ref=note["author_ref"], created_at=note["created_at"], text=note["body"], kind=kind,
                    reply_to_ref=f"note:{parent}" if parent else None,
                    meta={"stage": note["stage"]} if note.get("stage") else {},
                ))  # fmt: skip
            if len(pending.messages) >= self.batch_size:
                yield pending
                pending = Batch()
        if len(pending):
            yield pending
