"""Who is reading: the one permission-checked path of every read on behalf of a person.

Every core read (memory ask, experts, profiles, people, analytics, inbox, my questions, drafts) takes a
:class:`Viewer`. A viewer is built in one place only, :func:`whoknows.store.store.viewer_in` (through
:meth:`Store.viewer`), from the one permission rule: every public space, plus the private spaces the person is a
member of. The only viewer that reads everything is the explicit :meth:`Viewer.system` (offline jobs, the
operator's own shell); no read takes a bare set of space ids that a caller could widen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Roles of a viewer, weakest first. ``anonymous`` reads public spaces only; ``system`` reads everything.
Role = Literal["anonymous", "member", "analyst", "admin", "system"]
ROLE_ORDER: tuple[Role, ...] = ("anonymous", "member", "analyst", "admin", "system")

_BUILT_BY_STORE = object()


@dataclass(frozen=True, slots=True)
class Viewer:
    """A reader: the person (``None``: anonymous or the system), their role, and the spaces they may read.

    ``spaces`` is ``None`` for the system viewer only (no restriction). Build one with :meth:`Store.viewer`
    (or :func:`whoknows.store.store.viewer_in` inside a transaction) or :meth:`Viewer.system`.
    """

    person_id: int | None
    role: Role
    spaces: frozenset[int] | None
    _token: object = None

    def __post_init__(self) -> None:
        if self._token is not _BUILT_BY_STORE:
            raise TypeError("a Viewer is built by Store.viewer(...) / viewer_in(...) or Viewer.system(), not directly")
        if self.spaces is None and self.role != "system":
            raise ValueError("only the system viewer reads every space")

    @classmethod
    def system(cls) -> Viewer:
        """The explicit viewer that reads every space: offline derivation, benchmarks, the operator's shell."""
        return cls(None, "system", None, _BUILT_BY_STORE)

    @property
    def is_system(self) -> bool:
        return self.spaces is None

    def can_read(self, space_id: int | None) -> bool:
        return self.spaces is None or (space_id is not None and int(space_id) in self.spaces)

    def has_role(self, role: Role) -> bool:
        return ROLE_ORDER.index(self.role) >= ROLE_ORDER.index(role)

    @property
    def sees_timings(self) -> bool:
        """Per-request timings depend on content a reader may not see (how much private text matched): only
        admins and the system get them."""
        return self.has_role("admin")

    def is_person(self, person_id: int | None) -> bool:
        return person_id is not None and self.person_id == person_id


def role_of(role: str | None, person_id: int | None) -> Role:
    """The viewer role for an account role (``member``/``analyst``/``admin``), ``anonymous`` without a person."""
    if person_id is None:
        return "anonymous"
    return _ACCOUNT_ROLES.get(role or "", "member")


_ACCOUNT_ROLES: dict[str, Role] = {"member": "member", "analyst": "analyst", "admin": "admin"}


def _make(person_id: int | None, role: Role, spaces: frozenset[int]) -> Viewer:
    """For :func:`whoknows.store.store.viewer_in` only: the store holds the permission rule."""
    return Viewer(person_id, role, spaces, _BUILT_BY_STORE)
