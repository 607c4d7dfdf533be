"""Helpdesk tickets from CSV or JSON Lines (schema and column aliases: ``docs/formats.md``, "Tickets").

Mapping:

* Source key ``tickets:<slug of --space-name, default "default">``: ticket ids are unique per helpdesk, so
  re-importing a newer export of the same helpdesk (whatever the file name) is idempotent.
* One private space of kind ``ticket_queue`` per queue (external id ``queue:<queue>``, tickets without a
  queue go to ``(no queue)``), whose members are the requesters, assignees and comment authors of its
  tickets.
* One thread per ticket (external id ``ticket:<id>``, title = subject, meta: status, queue, requester,
  assignee).
* The ticket's *question* (kind ``question``): the description, authored by the requester (id
  ``ticket:<id>/q``), or, without a description, the earliest comment. Its text is the subject followed by
  the body.
* Every other comment (id ``ticket:<id>/c:<comment id>``, or ``ticket:<id>/c<n>`` with n its position in
  time order when the export has no comment ids) replies to the question and is a ``comment``, except that
  on a ticket whose status is solved/closed/resolved/done the *last public comment by someone other than
  the requester* is the ``answer``, marked ``accepted`` (the requester's problem was solved by it).
* Internal notes (``public`` false) keep ``meta.public = false`` and are never the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoknows.importers.base import SourceReader
from whoknows.importers.contacts import person_from_text, slug
from whoknows.importers.tabular import Record, TableFile, map_keys, parse_bool, parse_datetime
from whoknows.model import Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility

SOLVED = frozenset({"solved", "closed", "resolved", "done", "fixed", "completed", "complete"})
NO_QUEUE = "(no queue)"

TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket_id": ("ticket id", "id", "ticket", "ticket number", "ticket no", "number", "key", "issue key"),
    "queue": ("queue name", "group", "team", "department", "project"),
    "subject": ("title", "summary"),
    "requester": ("requester email", "requested by", "reporter", "customer", "submitter", "from"),
    "assignee": ("assignee email", "assigned to", "agent", "owner"),
    "status": ("state", "ticket status"),
    "created_at": ("created", "creation date", "opened at", "created date", "date"),
    "description": ("ticket body", "question", "details"),
    "comments": (),
    "comment_id": ("comment id",),
    "comment_author": ("comment by", "commenter", "comment from"),
    "comment_created_at": ("comment created", "comment date", "commented at", "comment time"),
    "comment_body": ("comment", "comment text", "reply"),
    "comment_public": ("public", "is public", "comment is public"),
}
COMMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("comment id", "comment_id"),
    "author": ("author email", "from", "user", "comment author"),
    "created_at": ("created", "date", "time"),
    "body": ("text", "comment", "html body", "plain body"),
    "public": ("is public", "visibility"),
}
REQUIRED = ("ticket_id", "subject", "requester", "created_at")


class TicketsReader(SourceReader):
    kind = "tickets"
    description = "Helpdesk tickets with comments (CSV or JSON Lines, see docs/formats.md)"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        # CSV rows after a ticket's first may leave the ticket columns empty: only the id is needed there.
        self.table = TableFile(path, TICKET_COLUMNS, REQUIRED, self.warn, record_required=("ticket_id",))
        self._validated = False

    @property
    def source(self) -> str:
        return f"tickets:{slug(self.space_name or 'default')}"

    def validate(self) -> None:
        if not self._validated:
            self.table.validate()
            self._validated = True

    def total_hint(self) -> int | None:
        return max(1, self.path.stat().st_size // 600)

    def _tickets(self) -> dict[str, dict[str, Any]]:
        """ticket id -> ticket fields plus ``comments`` (a list of {id, author, created_at, body, public})."""
        tickets: dict[str, dict[str, Any]] = {}
        for record in self.table.records():
            v = record.values
            tid = str(v["ticket_id"]).strip()
            if tid not in tickets and (missing := [c for c in REQUIRED if v.get(c) in (None, "")]):
                self.warn(self.path, record.where, f"missing required value {missing[0]!r}; skipped")
                continue
            created = parse_datetime(v["created_at"]) if v.get("created_at") not in (None, "") else None
            if created is None and tid not in tickets:
                self.warn(self.path, record.where, f"invalid created_at {v.get('created_at')!r}; skipped")
                continue
            ticket = tickets.setdefault(tid, {"comments": [], "where": record.where})
            for key in ("queue", "subject", "requester", "assignee", "status", "description"):
                if v.get(key) not in (None, "") and key not in ticket:
                    ticket[key] = str(v[key]).strip()
            ticket.setdefault("created_at", created)
            created = ticket["created_at"]
            comments = v.get("comments") if self.table.format == "jsonl" else [self._csv_comment(v)]
            if not isinstance(comments, list):
                self.warn(self.path, record.where, "'comments' is not a list; comments ignored")
                comments = []
            for n, raw in enumerate(comments, 1):
                if raw is None:
                    continue
                comment = self._comment(raw, record, n, created)
                if comment is not None:
                    ticket["comments"].append(comment)
        return tickets

    @staticmethod
    def _csv_comment(v: dict[str, Any]) -> dict[str, Any] | None:
        if v.get("comment_body") in (None, ""):
            return None
        return {"id": v.get("comment_id"), "author": v.get("comment_author"),
                "created_at": v.get("comment_created_at"), "body": v["comment_body"],
                "public": v.get("comment_public")}  # fmt: skip

    def _comment(self, raw: object, record: Record, n: int, ticket_created: Any) -> dict[str, Any] | None:
        where = record.where if self.table.format == "csv" else f"{record.where}, comment {n}"
        if not isinstance(raw, dict):
            self.warn(self.path, where, "comment is not an object; skipped")
            return None
        c = map_keys(raw, COMMENT_COLUMNS)
        body = c.get("body")
        if body in (None, ""):
            self.warn(self.path, where, "comment without body; skipped")
            return None
        created = parse_datetime(c["created_at"]) if c.get("created_at") not in (None, "") else ticket_created
        if created is None:
            self.warn(self.path, where, f"invalid comment created_at {c['created_at']!r}; skipped")
            return None
        return {"id": None if c.get("id") in (None, "") else str(c["id"]), "author": c.get("author"),
                "created_at": created, "body": str(body), "public": parse_bool(c.get("public"))}  # fmt: skip

    def batches(self) -> Iterator[Batch]:
        self.validate()
        source = self.source
        tickets = self._tickets()
        people: dict[str, Person] = {}
        members: dict[str, dict[str, None]] = {}

        def ref(value: object, queue: str) -> str | None:
            person = person_from_text(value, source)
            if person is None:
                return None
            people.setdefault(person.external_id, person)
            members.setdefault(queue, {})[person.external_id] = None
            return person.external_id

        resolved: list[tuple[str, dict[str, Any], str | None, list[str | None]]] = []
        for tid, t in tickets.items():
            queue = t.get("queue") or NO_QUEUE
            requester = ref(t.get("requester"), queue)
            ref(t.get("assignee"), queue)
            authors = [ref(c["author"], queue) for c in t["comments"]]
            resolved.append((tid, t, requester, authors))
        person_list = list(people.values())
        for start in range(0, len(person_list), self.batch_size):
            yield Batch(people=person_list[start : start + self.batch_size])
        prefix = f"{self.space_name} / " if self.space_name else ""
        yield Batch(spaces=[
            Space(source=source, external_id=f"queue:{q}", kind=SpaceKind.TICKET_QUEUE, name=prefix + q,
                  visibility=Visibility.PRIVATE, member_refs=list(m), members_complete=False)
            for q, m in members.items()
        ])  # fmt: skip
        pending = Batch()
        for tid, t, requester, authors in resolved:
            self._ticket(pending, source, tid, t, requester, authors)
            if len(pending.messages) >= self.batch_size:
                yield pending
                pending = Batch()
        if len(pending):
            yield pending

    def _ticket(self, batch: Batch, source: str, tid: str, t: dict[str, Any], requester: str | None,
                authors: list[str | None]) -> None:  # fmt: skip
        thread = f"ticket:{tid}"
        subject = t.get("subject") or ""
        status = (t.get("status") or "").lower()
        meta = {k: t[k] for k in ("status", "queue", "requester", "assignee") if t.get(k)}
        batch.threads.append(Thread(source=source, external_id=thread, space_ref=f"queue:{t.get('queue') or NO_QUEUE}",
                                    title=subject or None, created_at=t["created_at"], meta=meta))  # fmt: skip
        order = sorted(range(len(t["comments"])), key=lambda i: t["comments"][i]["created_at"])
        comments = [(t["comments"][i], authors[i], n) for n, i in enumerate(order, 1)]
        if t.get("description"):
            q_id, q_author, q_body, q_created = f"{thread}/q", requester, t["description"], t["created_at"]
        elif comments:
            first, author, n = comments.pop(0)
            q_id, q_author, q_body, q_created = self._comment_id(thread, first, n), author, first["body"], first[
                "created_at"]  # fmt: skip
        else:
            q_id, q_author, q_body, q_created = f"{thread}/q", requester, "", t["created_at"]
        text = q_body if not subject or q_body.startswith(subject) else f"{subject}\n\n{q_body}".strip()
        batch.messages.append(
            Message(
                source=source,
                external_id=q_id,
                thread_ref=thread,
                author_ref=q_author,
                created_at=q_created,
                text=text,
                kind=MessageKind.QUESTION,
            )
        )
        answer = None
        if status in SOLVED:
            agents = [i for i, (c, author, _) in enumerate(comments) if c["public"] and author != requester]
            answer = agents[-1] if agents else None
        for i, (c, author, n) in enumerate(comments):
            batch.messages.append(Message(
                source=source, external_id=self._comment_id(thread, c, n), thread_ref=thread, author_ref=author,
                created_at=c["created_at"], text=c["body"], reply_to_ref=q_id,
                kind=MessageKind.ANSWER if i == answer else MessageKind.COMMENT, accepted=i == answer,
                meta={} if c["public"] else {"public": False},
            ))  # fmt: skip

    @staticmethod
    def _comment_id(thread: str, comment: dict[str, Any], n: int) -> str:
        return f"{thread}/c:{comment['id']}" if comment.get("id") else f"{thread}/c{n}"
