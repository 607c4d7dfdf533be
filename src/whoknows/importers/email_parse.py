"""One RFC 5322 message as the fields the e-mail importer needs, decoded robustly.

* Headers: RFC 2047 encoded words are decoded; an unknown or broken charset falls back to UTF-8 with
  replacement characters (the message is kept, with a warning).
* Body: the first ``text/plain`` part that is not an attachment, else the first ``text/html`` part converted
  to text (:func:`.email_text.html_to_text`). Charsets: the declared one; an unknown one -> UTF-8 with
  replacement and a warning; none declared -> UTF-8, else Windows-1252.
* Message-ID, In-Reply-To and References are kept as ``<…>`` ids; a message without Message-ID gets
  ``<sha1 of From, To, Date, Subject>@whoknows.invalid``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header
from email.message import Message as EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from whoknows.importers.email_text import html_to_text

_MSGID = re.compile(r"<[^<>\s]{1,900}>")
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|rif|tr|ref|r|res|enc|odp|vl|ynt|回复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[[^\]]{1,40}\])\s*",
    re.IGNORECASE,
)


@dataclass(slots=True)
class ParsedMail:
    message_id: str
    in_reply_to: str | None
    references: list[str]
    subject: str
    date: datetime | None
    sender: tuple[str, str] | None  # (name, address)
    recipients: list[tuple[str, str]]  # to + cc
    to: list[str]
    cc: list[str]
    body: str
    problems: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return bool(self.in_reply_to or self.references) or normalize_subject(self.subject) != _clean(self.subject)


def _clean(subject: str) -> str:
    return " ".join(subject.split()).lower()


def strip_subject_prefixes(subject: str) -> str:
    """The subject without reply/forward prefixes (Re:, Fwd:, AW:, SV: … and ``[list]`` tags)."""
    previous = None
    s = subject
    while s != previous:
        previous = s
        s = _SUBJECT_PREFIX.sub("", s, count=1)
    return " ".join(s.split())


def normalize_subject(subject: str) -> str:
    """The key for subject threading: :func:`strip_subject_prefixes`, lower-cased."""
    return strip_subject_prefixes(subject).lower()


def decode_text(data: bytes, charset: str | None, problems: list[str]) -> str:
    """``data`` decoded with ``charset`` (see the module docstring for the fallbacks)."""
    if charset:
        name = charset.strip().strip('"').lower()
        try:
            codecs.lookup(name)
        except LookupError:
            problems.append(f"unknown charset {charset!r}; decoded as UTF-8 with replacement")
            return data.decode("utf-8", "replace")
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            return data.decode(name, "replace")
        except (ValueError, LookupError):
            return data.decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def decode_header_value(value: object, problems: list[str]) -> str:
    """A header's text with encoded words decoded; never raises."""
    if value is None:
        return ""
    raw = str(value)
    try:
        parts = decode_header(raw)
    except (ValueError, LookupError, AssertionError, IndexError):
        return raw
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_text(chunk, charset if charset != "unknown-8bit" else None, problems))
        else:
            out.append(chunk)
    return " ".join("".join(out).split()) if len(parts) > 1 else "".join(out).strip()


def _ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        pairs = getaddresses(values)
    except (ValueError, IndexError, TypeError):
        return out
    for name, addr in pairs:
        addr = addr.strip().strip("<>").lower()
        if "@" in addr and " " not in addr and len(addr) <= 320:
            out.append((name.strip().strip('"').strip(), addr))
    return out


def parse_mail(data: bytes) -> ParsedMail:
    """Parse raw message bytes; never raises for malformed input (problems are listed in ``problems``)."""
    problems: list[str] = []
    msg = message_from_bytes(data)

    def header(name: str) -> str:
        try:
            values = msg.get_all(name) or []
        except (TypeError, ValueError):
            return ""
        return " ".join(decode_header_value(v, problems) for v in values)

    subject = header("Subject")
    senders = _addresses([header("From")]) or _addresses([header("Sender")])
    to, cc = _addresses([header("To")]), _addresses([header("Cc")])
    date = _date(header("Date"))
    if date is None:
        received = header("Received")
        date = _date(received.rsplit(";", 1)[-1]) if ";" in received else None
    ids = _ids(header("Message-ID"))
    if ids:
        message_id = ids[0]
    else:
        seed = "\n".join((header("From"), header("To"), header("Date"), subject))
        message_id = f"<{hashlib.sha1(seed.encode('utf-8', 'replace')).hexdigest()}@whoknows.invalid>"
    reply_ids = _ids(header("In-Reply-To"))
    return ParsedMail(
        message_id=message_id, in_reply_to=reply_ids[0] if reply_ids else None,
        references=[r for r in _ids(header("References")) if r != message_id], subject=subject, date=date,
        sender=senders[0] if senders else None, recipients=to + cc, to=[a for _, a in to],
        cc=[a for _, a in cc], body=_body(msg, problems), problems=problems,
    )  # fmt: skip


def _date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not 1970 <= parsed.year < 2100:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _body(msg: EmailMessage, problems: list[str]) -> str:
    plain: EmailMessage | None = None
    html_part: EmailMessage | None = None
    try:
        parts = list(msg.walk())
    except (RecursionError, TypeError):
        parts = [msg]
    for part in parts:
        if part.is_multipart():
            continue
        disposition = str(part.get("Content-Disposition", "")).lower()
        if disposition.startswith("attachment"):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html_part is None:
            html_part = part
    chosen = plain or html_part
    if chosen is None:
        return ""
    try:
        payload = chosen.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = chosen.get_payload()
        payload = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    try:
        charset = chosen.get_content_charset()
    except (ValueError, LookupError, TypeError):
        charset = None
    text = decode_text(payload, charset, problems)
    return html_to_text(text) if chosen is html_part else text
