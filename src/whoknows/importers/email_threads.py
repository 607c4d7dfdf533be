"""Grouping e-mails into threads (a simplified JWZ algorithm) over messages sorted by date.

For each message, in date order:

1. If its In-Reply-To or any of its References (newest first) is a message already placed, it joins that
   message's thread.
2. Otherwise, if it has References or In-Reply-To, its thread is the first id of References (the root of the
   conversation by RFC 5322 convention) or else its In-Reply-To, even if that message is not in this import:
   so a later import of the same mailbox puts replies into the thread an earlier import created.
3. Otherwise, if its subject carries a reply/forward prefix (``Re:``, ``AW:``, ``Fwd:`` …) and an earlier
   message with the same normalized subject was seen at most :data:`SUBJECT_WINDOW` before, it joins that
   thread and replies to the thread's latest message.
4. Otherwise it starts a thread whose id is its own Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from whoknows.importers.email_parse import ParsedMail, normalize_subject, strip_subject_prefixes

SUBJECT_WINDOW = timedelta(days=30)


@dataclass(slots=True)
class ThreadLink:
    thread_id: str
    reply_to: str | None
    title: str


def assign_threads(mails: list[ParsedMail]) -> list[ThreadLink]:
    """One :class:`ThreadLink` per message of ``mails`` (which must be sorted by date)."""
    thread_of: dict[str, str] = {}
    titles: dict[str, str] = {}
    by_subject: dict[str, tuple[str, datetime, str]] = {}  # key -> (thread, last date, last message id)
    links: list[ThreadLink] = []
    for mail in mails:
        assert mail.date is not None
        candidates = ([mail.in_reply_to] if mail.in_reply_to else []) + mail.references[::-1]
        thread = next((thread_of[c] for c in candidates if c in thread_of), None)
        reply_to = mail.in_reply_to
        if thread is None and (mail.references or mail.in_reply_to):
            thread = mail.references[0] if mail.references else mail.in_reply_to
        key = normalize_subject(mail.subject)
        if thread is None and key and mail.is_reply:
            previous = by_subject.get(key)
            if previous is not None and mail.date - previous[1] <= SUBJECT_WINDOW:
                thread, reply_to = previous[0], previous[2]
        if thread is None:
            thread = mail.message_id
        thread_of[mail.message_id] = thread
        titles.setdefault(thread, strip_subject_prefixes(mail.subject)[:300])
        if key:
            by_subject[key] = (thread, mail.date, mail.message_id)
        links.append(ThreadLink(thread_id=thread, reply_to=reply_to, title=titles[thread]))
    return links
