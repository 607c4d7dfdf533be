"""Privacy by design: who counts, who may see individual rows, and which group aggregates are suppressed.

* **Excluded people** (opted out, bots) are removed from the ledger before anything is computed, so they are in
  no numerator and no denominator.
* **Group size** is the number of distinct (non-excluded) people who contribute to a cell — who gave or received
  help inside the window — not the headcount: a department of 40 with two active people is a group of two.
* **Minimum group**: a cell over fewer than ``min_group`` people is suppressed. Cells are nested (organisation ⊃
  departments ⊃ teams); when the suppressed siblings under a shown parent add up to fewer than ``min_group``
  people, the parent minus the shown siblings would reveal them, so the next-smallest siblings are suppressed too
  (complementary suppression) until the hidden remainder covers ``min_group`` people — or, if every sibling is
  already hidden, the parent is suppressed as well.
* **Individual views** (per-person rows, names of bridges, of a topic's only expert, of top performers) are shown
  only to the person themself, or to viewers whose job title is in ``analytics_individual_roles``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.rows import PersonRow


@dataclass(frozen=True)
class Access:
    """What the viewer of a report may see."""

    viewer_id: int | None
    individual: bool  # may see other people's individual rows
    all_spaces: bool  # computed over every space (admin), else over the viewer's readable spaces
    min_group: int

    def may_see_person(self, person_id: int) -> bool:
        return self.individual or person_id == self.viewer_id


def access_for(viewer: PersonRow | None, *, admin: bool, min_group: int, individual_roles: Iterable[str]) -> Access:
    roles = {r.strip().lower() for r in individual_roles if r.strip()}
    individual = viewer is not None and (viewer.role or "").strip().lower() in roles
    return Access(viewer.id if viewer else None, individual, admin, min_group)


def counted_events(events: Iterable[HelpEvent], people: Mapping[int, PersonRow]) -> list[HelpEvent]:
    """Events between two known, non-excluded people."""
    out = []
    for e in events:
        a, b = people.get(e.helper_id), people.get(e.helped_id)
        if a is not None and b is not None and not a.excluded and not b.excluded:
            out.append(e)
    return out


def complete_suppression(sizes: Mapping[str, int], hidden: set[str], min_group: int) -> set[str]:
    """``hidden`` plus the smallest shown siblings needed so that the hidden cells cover ``min_group`` people."""
    out = set(hidden)
    if not out:
        return out
    shown = sorted((n, k) for k, n in sizes.items() if k not in out)
    while sum(sizes[k] for k in out) < min_group and shown:
        out.add(shown.pop(0)[1])
    return out


def suppress_siblings(sizes: Mapping[str, int], min_group: int) -> tuple[set[str], bool]:
    """The sibling cells to hide under one parent, and whether the parent must be hidden too.

    ``sizes`` maps each sibling to its group size; the parent is their union (its size is their sum).
    """
    hidden = complete_suppression(sizes, {k for k, n in sizes.items() if n < min_group}, min_group)
    parent_hidden = sum(sizes.values()) < min_group or (bool(hidden) and sum(sizes[k] for k in hidden) < min_group)
    return hidden, parent_hidden


def suppress_nested(
    parent_sizes: Mapping[str, int], child_sizes: Mapping[tuple[str, str], int], min_group: int
) -> tuple[set[str], set[tuple[str, str]]]:
    """Suppression for two nested levels (e.g. departments and their teams) under a shown organisation total.

    Returns the hidden parents and the hidden children (every child of a hidden parent is hidden)."""
    hidden_parents, _ = suppress_siblings(parent_sizes, min_group)
    for parent in parent_sizes:
        kids = {k[1]: n for k, n in child_sizes.items() if k[0] == parent}
        if kids and suppress_siblings(kids, min_group)[1]:
            hidden_parents.add(parent)
    # A parent hidden because of its children must not be recoverable from the total minus the shown parents.
    hidden_parents = complete_suppression(parent_sizes, hidden_parents, min_group)
    hidden_children: set[tuple[str, str]] = set()
    for parent in parent_sizes:
        kids = {k[1]: n for k, n in child_sizes.items() if k[0] == parent}
        kid_hidden = set(kids) if parent in hidden_parents else suppress_siblings(kids, min_group)[0]
        hidden_children |= {(parent, k) for k in kid_hidden}
    return hidden_parents, hidden_children
