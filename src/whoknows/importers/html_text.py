"""HTML fragments (Stack Exchange post bodies, e-mail parts) to plain text, without dependencies."""

from __future__ import annotations

import html as _html
import re

_TAG_RE = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>", re.S)
_ATTR_RE = re.compile(r"""\b(href|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_BLOCKS = frozenset(
    ["p", "div", "pre", "blockquote", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl"]
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (Stack Exchange post bodies): tags dropped, entities unescaped,
    paragraphs and list items on their own lines, ``<pre>`` kept verbatim, link targets after the link."""
    if "<" not in html:
        return _html.unescape(_SPACES.sub(" ", html)).strip()
    out: list[str] = []
    pre = 0
    link: tuple[int, str] | None = None
    pos = 0
    for m in _TAG_RE.finditer(html):
        segment = html[pos : m.start()]
        pos = m.end()
        if segment:
            if not pre:
                segment = _SPACES.sub(" ", segment)
                if not out or out[-1].endswith("\n"):
                    segment = segment.lstrip(" ")
            if segment:
                out.append(segment)
        closing, tag = m.group(1), (m.group(2) or "").lower()
        if not tag:
            continue
        attrs = {k.lower(): a or b or c for k, a, b, c in _ATTR_RE.findall(m.group(3) or "")}
        if tag == "pre":
            pre = max(0, pre + (-1 if closing else 1))
        if tag in _BLOCKS:
            out.append("\n\n")
        elif tag == "br" or (tag == "tr" and closing):
            out.append("\n")
        elif tag == "li" and not closing:
            out.append("\n- ")
        elif tag in ("td", "th") and closing:
            out.append(" ")
        elif tag == "img" and attrs.get("alt"):
            out.append(f"[{attrs['alt']}]")
        elif tag == "a" and not closing:
            link = (len(out), attrs.get("href", ""))
        elif tag == "a" and link is not None:
            start, href = link
            if href and href not in "".join(out[start:]):
                out.append(f" ({href})")
            link = None
    tail = html[pos:]
    out.append(tail if pre else _SPACES.sub(" ", tail))
    text = _html.unescape("".join(out))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
