"""People named by free text in tickets and CRM exports: ``"Ann Lee <ann@x.com>"``, ``ann@x.com`` or ``Ann Lee``.

An address becomes a person with external id = the lower-cased address (alias e-mail, plus the name if one
is given); a bare name becomes ``name:<normalized name>`` with a name alias, so the store can merge it with
the same person from another source.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from whoknows.model import Alias, AliasKind, Person, normalize_alias

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def slug(name: str, default: str = "default") -> str:
    """A stable, readable key part for a source: lower case, runs of other characters become ``-``."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or default


def person_from_text(value: object, source: str) -> Person | None:
    """The person ``value`` names, or None for an empty value."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    name, addr = parseaddr(text) if "@" in text else ("", "")
    addr = addr.strip().lower()
    if addr and _EMAIL.match(addr):
        aliases = [Alias(AliasKind.EMAIL, addr)]
        if name:
            aliases.append(Alias(AliasKind.NAME, name))
        return Person(source=source, external_id=addr, name=name or addr.split("@", 1)[0], aliases=aliases)
    return Person(
        source=source,
        external_id="name:" + normalize_alias(AliasKind.NAME, text),
        name=text[:300],
        aliases=[Alias(AliasKind.NAME, text[:300])],
    )
