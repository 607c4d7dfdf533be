"""Does a message ask something? A cheap, documented heuristic shared by the chat, e-mail and CRM importers.

A text *asks* when, after removing quoted lines and code, it contains a question mark at the end of a
sentence (``?`` followed by whitespace, a closing bracket/quote or the end), or its first sentence starts with
a question word (English and German: "how", "what", "why", "can", "does", "anyone", "wie", "kann" …) or an
explicit request ("need help", "looking for", "does anybody know"). False positives are cheap: the kind only
marks a thread starter as a *candidate* question for Q&A extraction, which looks at the replies as well.
"""

from __future__ import annotations

import re

_WORDS = (
    "how what why where when who whom whose which can could does do did is are should would has have "
    "anyone anybody someone somebody wie warum wieso weshalb wo wann wer welche welcher welches kann "
    "könnt kannst gibt weiß"
)
QUESTION_WORDS = frozenset(_WORDS.split())
_REQUEST = re.compile(
    r"\b(need help|looking for|does (?:any|some)(?:one|body) know|any (?:idea|ideas|tips|pointers)|"
    r"help me|how do i|how can i|wondering (?:if|whether|how))\b",
    re.IGNORECASE,
)
_QMARK = re.compile(r"\?(?:[\s)\]\"'»”]|$)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_FIRST_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def looks_like_question(text: str) -> bool:
    """True when ``text`` reads like a request for help (see the module docstring for the rule)."""
    if not text:
        return False
    body = _CODE.sub(" ", text) if "`" in text else text
    body = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))
    if _QMARK.search(body):
        return True
    first = _FIRST_WORD.search(body)
    if first is not None and first.group(0).lower() in QUESTION_WORDS:
        return True
    return bool(_REQUEST.search(body))
