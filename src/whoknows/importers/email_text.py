"""The part of an e-mail body worth learning from: HTML to text, quoted replies and signatures removed.

:func:`strip_reply` keeps what the sender wrote in *this* message:

1. Everything from the first *reply header* on is dropped (top posting): a line ``On … wrote:`` (also split
   over two lines, and the German/French/Spanish/Dutch forms ``Am … schrieb …:``, ``Le … a écrit :``,
   ``El … escribió:``, ``Op … schreef …:``), Outlook's ``-----Original Message-----``, a ``____`` rule, or a
   header block ``From:``/``Von:``/``De:`` followed within two lines by ``Sent:``/``Date:``/``Gesendet:``/
   ``Envoyé :``/``To:``.
2. Lines quoted with ``>`` are removed (inline replies keep the sender's own lines between quotes).
3. The signature is removed: from the last ``-- `` delimiter line, or from a short sign-off line ("Best
   regards,", "Thanks,", "Cheers", "Viele Grüße", "Sent from my iPhone" …) among the last six non-empty
   lines, to the end.
4. Runs of blank lines collapse to one.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_REPLY_HEADER = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote:|am\b.{0,200}\bschrieb\b.{0,200}:|le\b.{0,200}\ba écrit\s?:|"
    r"el\b.{0,200}\bescribió:|op\b.{0,200}\bschreef\b.{0,200}:|"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|forwarded message)\s*-{2,}|"
    r"_{10,})\s*$",
    re.IGNORECASE,
)
_WROTE_TAIL = re.compile(r"(?:wrote|schrieb|a écrit|escribió|schreef)\s?:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*(?:on|am|le|el|op)\s", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|von|de|van)\s?:\*?\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|enviado|to|an|à|para|verzonden)\s?:\*?\s", re.IGNORECASE
)
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|many|with)?\s*(?:regards|wishes)|thanks(?: again| a lot)?|thank you|"
    r"many thanks|cheers|best|br|sincerely|yours(?: truly| sincerely)?|all the best|"
    r"(?:viele|beste|liebe|freundliche)?\s*grüße|(?:mit )?freundlichen grüßen|mfg|lg|gruß|"
    r"cordialement|bien à vous|saludos|met vriendelijke groet|"
    r"sent from my \w+(?: \w+)?|von meinem \w+ gesendet|get outlook for \w+)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_SIGN_OFF_WINDOW = 6


def strip_reply(text: str) -> str:
    """The new text of a reply (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _reply_header_index(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = lines[: _signature_index(lines)]
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _reply_header_index(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if _REPLY_HEADER.match(line):
            return i
        if _ON_START.match(line) and i + 1 < len(lines) and _WROTE_TAIL.search(lines[i + 1]):
            return i
        if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(n) for n in lines[i + 1 : i + 3]):
            return i
    return len(lines)


def _signature_index(lines: list[str]) -> int:
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] in ("-- ", "--"):
            return i
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    for i in non_empty[-_SIGN_OFF_WINDOW:]:
        if _SIGN_OFF.match(lines[i]) and i != non_empty[0]:
            return i
    return len(lines)


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        ("p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
         "pre", "hr", "section", "article", "header", "footer")
    )  # fmt: skip
    _SKIP = frozenset(("script", "style", "head", "title"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"[ \t\r\n]+", " ", data)
        if self.quote_depth:  # quoted HTML replies become "> " lines, removed like plain-text quotes
            data = "\n> " + data
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body: blocks become lines, scripts and styles vanish, blockquotes are
    marked as quotes."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # pathological markup: fall back to stripping tags
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
