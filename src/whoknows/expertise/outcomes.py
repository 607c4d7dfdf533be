"""Learning from outcomes: every routed question that got an accepted answer, an answer, or a decline becomes a
training group, and :func:`refit` fits the ranker again on the history plus all outcomes so far.

Grades: ``accepted`` 2, ``answered`` 1 for the person and 0 for the other candidates of the question;
``declined`` puts the person below the next candidates the current model ranked (they would have been asked
next). Outcomes are kept in ``outcomes.npz`` beside the training groups, so a rebuild of the folder keeps
learning from them only if the caller replays them (the store does not record outcomes yet).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from whoknows.expertise.bundle import ExpertiseModel
from whoknows.expertise.learn import Group, LinearModel, fit, load_groups, save_groups
from whoknows.index import Filters
from whoknows.store import Store

Kind = Literal["accepted", "answered", "declined"]
#: How many of the next-ranked candidates a decline is compared with.
DECLINE_PEERS = 5


@dataclass(frozen=True)
class Outcome:
    question: str
    person_id: int
    outcome: Kind
    asker_id: int | None = None
    time: float | None = None


def outcome_group(store: Store, model: ExpertiseModel, o: Outcome) -> Group | None:
    table = model.table
    idx = table.person_index(o.person_id)
    if idx < 0:
        return None  # nobody we hold evidence for: nothing to learn about the features
    filters = Filters(spaces=store.viewer(o.asker_id).spaces)
    qf = model.extractor.extract(o.question, filters, asker=table.person_index(o.asker_id), extra=[idx])
    where = np.flatnonzero(qf.cand == idx)
    if not len(where):
        return None
    me = int(where[0])
    if o.outcome == "declined":
        scores = model.ranker.score(qf)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if i != me][:DECLINE_PEERS]
        y = np.full(len(qf.cand), -1.0)
        y[order] = 1.0
        y[me] = 0.0
        keep = y >= 0
        return Group(qf.x[keep], y[keep], o.time or time.time())
    y = np.zeros(len(qf.cand))
    y[me] = 2.0 if o.outcome == "accepted" else 1.0
    return Group(qf.x, y, o.time or time.time())


def refit(store: Store, model: ExpertiseModel, outcomes: Sequence[Outcome]) -> LinearModel:
    """Add ``outcomes`` to the model's training data, fit again (same L2 as chosen at build) and save."""
    path = model.path / "outcomes.npz"
    earlier = load_groups(path) if path.exists() else []
    new = [g for g in (outcome_group(store, model, o) for o in outcomes) if g is not None]
    added = earlier + new
    save_groups(path, added, len(model.extractor.names))
    history = load_groups(model.path / "training.npz")
    fitted = fit(history + added, model.extractor.names, model.model.l2, start=model.model.w)
    fitted.info = dict(model.model.info, outcomes=len(added), refit_at=time.time())
    model.set_model(fitted)
    return fitted
