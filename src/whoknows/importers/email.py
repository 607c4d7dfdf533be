"""E-mail: an mbox file, a maildir (``cur``/``new`` folders, Maildir++ subfolders too), a folder of ``.eml``
files, or one ``.eml`` file. The format is detected from the path.

Mapping:

* One import is one mailbox: a private space of kind ``mailbox`` (external id ``mailbox``) named after
  ``--space-name`` or the file/folder name, whose members are every address that sends or receives a message
  in it. Source key ``email:<slug of that name>``, so re-importing the same mailbox is idempotent and the
  same message in two mailboxes is stored once per mailbox (each copy readable by that mailbox's members).
* People: every sender/recipient address (external id: the lower-cased address; aliases: the address, and
  the display name when only one address uses it).
* Threads (:mod:`.email_threads`): by In-Reply-To/References, else by normalized subject within
  :data:`.email_threads.SUBJECT_WINDOW` for replies (``Re:`` …); thread id = the Message-ID of the
  conversation's root.
* Messages: external id = Message-ID. ``text`` is the body without quoted replies and signature
  (:mod:`.email_text`), capped at :data:`MAX_TEXT_CHARS`; ``meta`` has subject, to, cc and, when the whole
  decoded body is at most :data:`MAX_META_BODY` characters, ``body``. The first message of a new thread is a
  ``question`` if its subject or text asks something, every other one a ``message``; a reply's
  ``reply_to_ref`` is its In-Reply-To (or, when threaded by subject, the previous message of the thread).

Per-message problems (no date, unparseable, larger than :data:`MAX_MESSAGE_BYTES`, duplicate Message-ID)
are warnings naming the file and record/line; the message is skipped. Messages are held in memory (headers
and stripped text) between reading and threading.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoknows.importers.base import ImportError_, SourceReader
from whoknows.importers.email_parse import ParsedMail, parse_mail
from whoknows.importers.email_text import strip_reply
from whoknows.importers.email_threads import assign_threads
from whoknows.importers.export_folder import export_files
from whoknows.importers.questions import looks_like_question
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.model import Visibility as Vis

MAX_TEXT_CHARS = 100_000
MAX_META_BODY = 4_000
MAX_MESSAGE_BYTES = 64 << 20
SPACE_REF = "mailbox"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "mailbox"


class EmailReader(SourceReader):
    kind = "email"
    description = "E-mail: mbox file, maildir folder or folder of .eml files"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        self.format: str | None = None
        self._files: list[Path] = []

    @property
    def mailbox_name(self) -> str:
        return self.space_name or (self.path.stem if self.path.is_file() else self.path.name) or "mailbox"

    @property
    def source(self) -> str:
        return f"email:{_slug(self.mailbox_name)}"

    def validate(self) -> None:
        if self.format is not None:
            return
        path = self.path
        if path.is_dir():
            files = export_files(path)  # refuses links that leave the folder
            boxes = {Path(d) for d, _, _ in os.walk(path) if Path(d).name in ("cur", "new")}
            if boxes:
                self.format = "maildir"
                self._files = [f for f in files if f.parent in boxes]
            else:
                self.format = "eml"
                self._files = [f for f in files if f.suffix.lower() == ".eml"]
                if not self._files:
                    raise ImportError_(
                        f"{path}: no maildir (cur/, new/) and no .eml files found", code="import.not_email"
                    )
            return
        try:
            with open(path, "rb") as fh:
                head = fh.read(4096)
        except OSError as exc:
            raise ImportError_(f"{path}: cannot read: {exc.strerror or exc}", code="import.unreadable") from None
        if head.startswith(b"From "):
            self.format = "mbox"
        elif path.suffix.lower() == ".eml" or re.match(rb"(?i)[\w-]{1,60}:", head):
            self.format = "eml"
            self._files = [path]
        else:
            raise ImportError_(
                f"{path}: not an mbox (no leading 'From ' line), maildir or .eml file",
                code="import.not_email",
            )

    def total_hint(self) -> int | None:
        self.validate()
        if self.format == "mbox":
            return max(1, self.path.stat().st_size // 8_000)
        return len(self._files)

    # -- reading --------------------------------------------------------------------------------------------
    def _raw_messages(self) -> Iterator[tuple[str, str, bytes]]:
        """(file, where, bytes) for every message of the input."""
        if self.format == "mbox":
            yield from self._mbox()
            return
        for n, f in enumerate(self._files, 1):
            try:
                size = f.stat().st_size
                if size > MAX_MESSAGE_BYTES:
                    self.warn(f, None, f"message of {size:,} bytes is larger than {MAX_MESSAGE_BYTES:,}; skipped")
                    continue
                yield str(f), f"record {n}", f.read_bytes()
            except OSError as exc:
                self.warn(f, None, f"cannot read: {exc.strerror or exc}; skipped")

    def _mbox(self) -> Iterator[tuple[str, str, bytes]]:
        """Split an mbox at ``From `` lines after a blank line (or at the start); unescape ``>From``."""
        lines: list[bytes] = []
        size = start = record = 0
        prev_blank = True
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if line.startswith(b"From ") and prev_blank:
                    if record:
                        yield from self._mbox_record(record, start, lines, size)
                    record, start, lines, size = record + 1, number, [], 0
                    prev_blank = False
                    continue
                prev_blank = not line.strip()
                if size <= MAX_MESSAGE_BYTES:
                    lines.append(line[1:] if line.startswith(b">") and line.lstrip(b">").startswith(b"From ") else line)
                size += len(line)
        if record:
            yield from self._mbox_record(record, start, lines, size)

    def _mbox_record(self, record: int, start: int, lines: list[bytes], size: int) -> Iterator[tuple[str, str, bytes]]:
        if size > MAX_MESSAGE_BYTES:
            self.warn(
                self.path,
                f"record {record} (line {start})",
                f"message of {size:,} bytes is larger than {MAX_MESSAGE_BYTES:,}; skipped",
            )
            return
        yield str(self.path), f"record {record} (line {start})", b"".join(lines)

    def _parsed(self) -> list[tuple[ParsedMail, str]]:
        """Every usable message with its stripped text, in date order."""
        out: list[tuple[ParsedMail, str]] = []
        seen: set[str] = set()
        for file, where, data in self._raw_messages():
            try:
                mail = parse_mail(data)
            except Exception as exc:  # the email package can fail in surprising ways
                self.warn(file, where, f"cannot parse message ({type(exc).__name__}); skipped")
                continue
            for problem in dict.fromkeys(mail.problems):
                self.warn(file, where, problem)
            if mail.date is None:
                self.warn(file, where, f"message {mail.message_id} has no valid Date header; skipped")
                continue
            if mail.message_id in seen:
                self.warn(file, where, f"duplicate Message-ID {mail.message_id}; skipped")
                continue
            seen.add(mail.message_id)
            text = strip_reply(mail.body) or mail.body.strip()
            if len(text) > MAX_TEXT_CHARS:
                self.warn(file, where, f"text of {len(text):,} characters truncated to {MAX_TEXT_CHARS:,}")
                text = text[:MAX_TEXT_CHARS]
            out.append((mail, text))
        out.sort(key=lambda pair: pair[0].date.timestamp() if pair[0].date else 0.0)
        return out

    # -- batches --------------------------------------------------------------------------------------------
    def batches(self) -> Iterator[Batch]:
        self.validate()
        source = self.source
        mails = self._parsed()
        people = self._people(mails, source)
        for start in range(0, len(people), self.batch_size):
            yield Batch(people=people[start : start + self.batch_size])
        yield Batch(spaces=[Space(
            source=source, external_id=SPACE_REF, kind=SpaceKind.MAILBOX, name=self.mailbox_name,
            visibility=Vis.PRIVATE, member_refs=[p.external_id for p in people], members_complete=False,
            meta={"format": self.format},
        )])  # fmt: skip
        links = assign_threads([m for m, _ in mails])
        pending = Batch()
        started: set[str] = set()
        for (mail, text), link in zip(mails, links, strict=True):
            assert mail.date is not None
            new_thread = link.thread_id not in started
            if new_thread:
                started.add(link.thread_id)
                pending.threads.append(
                    Thread(
                        source=source,
                        external_id=link.thread_id,
                        space_ref=SPACE_REF,
                        title=link.title or None,
                        created_at=mail.date,
                    )
                )
            asks = new_thread and not mail.is_reply and looks_like_question(f"{mail.subject}\n{text}")
            meta: dict[str, Any] = {"subject": mail.subject, "to": mail.to, "cc": mail.cc}
            if len(mail.body) <= MAX_META_BODY:
                meta["body"] = mail.body
            pending.messages.append(Message(
                source=source, external_id=mail.message_id, thread_ref=link.thread_id,
                author_ref=mail.sender[1] if mail.sender else None, created_at=mail.date, text=text,
                kind=MessageKind.QUESTION if asks else MessageKind.MESSAGE, reply_to_ref=link.reply_to,
                meta=meta,
            ))  # fmt: skip
            if len(pending.messages) >= self.batch_size:
                yield pending
                pending = Batch()
        if len(pending):
            yield pending

    def _people(self, mails: list[tuple[ParsedMail, str]], source: str) -> list[Person]:
        names: dict[str, Counter[str]] = {}
        for mail, _ in mails:
            for name, addr in ([mail.sender] if mail.sender else []) + mail.recipients:
                counter = names.setdefault(addr, Counter())
                if name and "@" not in name:
                    counter[name] += 1
        best = {addr: (c.most_common(1)[0][0] if c else None) for addr, c in names.items()}
        name_users = Counter(" ".join(n.lower().split()) for n in best.values() if n)
        people: list[Person] = []
        for addr, best_name in best.items():
            name = best_name or addr.split("@", 1)[0]
            aliases = [Alias(AliasKind.EMAIL, addr)]
            if best_name and name_users[" ".join(best_name.lower().split())] == 1:
                aliases.append(Alias(AliasKind.NAME, name))
            people.append(Person(source=source, external_id=addr, name=name, aliases=aliases))
        return people
