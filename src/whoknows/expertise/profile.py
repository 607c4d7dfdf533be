"""A person's inferred profile: the terms that characterise their contributions (weighted by how specific each
term is in the organisation), with the messages that show each one, and their standing (answers, accepted,
people helped, last active). Everything is computed from spaces the *viewer* may read.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from whoknows.access import Viewer
from whoknows.analytics.topic_labels import PHRASE_SHARE, question_terms
from whoknows.expertise import rows as store_rows
from whoknows.expertise.bundle import ExpertiseModel
from whoknows.expertise.evidence import CONTRIBUTION_ROLES, ROLES
from whoknows.expertise.finder import open_model
from whoknows.expertise.result import EvidenceItem, Profile, Topic, iso, snippet, why
from whoknows.index import Filters
from whoknows.index.analyzer import analyze
from whoknows.store import Store

MAX_MESSAGES = 400
TOPICS = 10
EVIDENCE_PER_TOPIC = 2


def profile(
    store: Store,
    person_ref: str | int,
    viewer: Viewer,
    *,
    path: str | Path | None = None,
    model: ExpertiseModel | None = None,
    topics: int = TOPICS,
) -> Profile:
    """The profile of ``person_ref`` (id, ``#id``, e-mail, handle or name) as ``viewer`` may see it.

    The person's own viewer sees their full inferred profile.
    """
    person = store.find_person(str(person_ref), viewer)
    assert person.id is not None
    stale = False
    if model is None:
        model, stale = open_model(store, path)
    out = Profile(person.id, person.name, person.department, stale=stale)
    if person.opted_out and not viewer.is_person(person.id):
        out.reason = "this person has opted out of expert finding"
        return out
    t = model.table
    idx = t.person_index(person.id)
    filters = Filters(spaces=viewer.spaces)
    if idx < 0:
        out.reason = "no contributions on record"
        return out
    st = t.stats(filters, model.half_life)
    last = float(st["last_seen"][idx])
    out.stats = {
        "answers": int(st["answers"][idx]),
        "other_replies": int(st["others"][idx]),
        "questions": int(st["questions"][idx]),
        "accepted_or_thanked": int(st["accepted"][idx]),
        "people_helped": int(st["askers"][idx]),
        "last_active": iso(last) if math.isfinite(last) else None,
    }
    mine = np.flatnonzero((t.author == idx) & np.isin(t.role, CONTRIBUTION_ROLES) & t.allowed(filters))[::-1]
    mine = mine[:MAX_MESSAGES]
    texts = store_rows.message_texts(store, [int(t.msg_id[r]) for r in mine])
    docs: list[tuple[int, set[str]]] = []
    tf: Counter[str] = Counter()
    for r in mine:
        found = texts.get(int(t.msg_id[r]))
        if found is None or not viewer.can_read(found[2]):
            continue
        terms = {w for w in analyze(found[0]) if len(w) > 2 and not w.isdigit()}
        docs.append((int(r), terms))
        tf.update(terms)
    if not docs:
        out.reason = "no contributions in spaces you can read"
        return out
    n = len(model.index)
    minimum = 2 if len(docs) >= 3 else 1  # a term needs repeated evidence once there is enough to repeat
    weighted = []
    for term, count in tf.items():
        if count < minimum:
            continue
        df = sum(s.df(s.term_index[term]) for s in model.index.segments if term in s.term_index)
        weighted.append((count * math.log(1 + (n - df + 0.5) / (df + 0.5)), term, count))
    weighted.sort(reverse=True)
    shown: set[str] = set()
    is_name = _NameCheck(store, viewer)
    for weight, term, count in weighted:
        if len(out.topics) >= topics:
            break
        rows = [r for r, terms in docs if term in terms]
        label = readable_label(term, [texts[int(t.msg_id[r])][0] for r in rows])
        if label.lower() in shown:  # "break" and "glass" both read "break glass": one topic
            continue
        if any(w != w.lower() and is_name(w) for w in label.split()):  # "Vincenzo": whom, not what
            continue
        shown.add(label.lower())
        rows.sort(key=lambda r: (not (t.accepted[r] or t.thanked[r]), -int(t.score[r])))
        items = []
        for r in rows[:EVIDENCE_PER_TOPIC]:
            text, url, space, _ = texts[int(t.msg_id[r])]
            reasons = why(
                ROLES[int(t.role[r])], bool(t.accepted[r]), bool(t.thanked[r]), int(t.score[r]), int(t.reactions[r])
            )
            items.append(
                EvidenceItem(int(t.msg_id[r]), snippet(text, [term]), url, reasons, iso(float(t.time[r])), space)
            )
        out.topics.append(Topic(term, round(weight, 3), count, items, label))
    return out


def readable_label(term: str, texts: list[str]) -> str:
    """``term`` (an index stem) as the ``texts`` that contain it write it: the adjacent pair of content words with
    it that at least ``PHRASE_SHARE`` of them (and two or more) share, as most often written ("break glass",
    "SAML SSO"), else its most frequent written form ("FedRAMP"), else the stem itself."""
    words: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    for text in texts:
        found = question_terms(text)
        mine = [w for w in found.words.values() if analyze(w) == [term]]
        lowered = {w.lower() for w in mine}
        words.update({w.lower() for w in mine})
        pairs = [p for p in found.phrases.values() if lowered.intersection(p.lower().split())]
        phrases.update({p.lower() for p in pairs})
        forms.update(mine + pairs)
    if phrases:
        best, n = min(phrases.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= 2 and n >= PHRASE_SHARE * len(texts):
            return _written(best, forms)
    return _written(min(words.items(), key=lambda kv: (-kv[1], kv[0]))[0], forms) if words else term


def _written(key: str, forms: Counter[str]) -> str:
    """The most frequent written form of ``key`` (a lower-case word or phrase)."""
    return min(((f, c) for f, c in forms.items() if f.lower() == key), key=lambda kv: (-kv[1], kv[0]))[0]


class _NameCheck:
    """Whether a word is part of the name of a person ``viewer`` may see (a colleague's name reads as whom, not
    what); only people the viewer may know of count, so a label left out tells them nothing new."""

    def __init__(self, store: Store, viewer: Viewer) -> None:
        self.store, self.viewer = store, viewer
        self._seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        key = word.lower()
        if key not in self._seen:
            self._seen[key] = len(key) > 2 and self._lookup(key)
        return self._seen[key]

    def _lookup(self, word: str) -> bool:
        from sqlalchemy import func, select

        from whoknows.store import schema
        from whoknows.store.directory import visible_people

        p = schema.people
        with self.store.read() as conn:
            rows = conn.execute(select(p.c.id, p.c.name).where(func.lower(p.c.name).contains(word)).limit(200)).all()
            named = {int(i) for i, n in rows if word in {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", n)}}
            return bool(visible_people(conn, named, self.viewer))
