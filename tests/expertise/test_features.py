"""Question-relative features on the toy organisation, and the rolling-origin choice of the L2 strength."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from expertise_toy import pid

from whoknows.expertise import ExpertiseModel
from whoknows.expertise.learn import L2_GRID, Group, fit, fit_time_ordered, load_groups, save_groups
from whoknows.index import Filters
from whoknows.store import Store

Q = "kubernetes ingress TLS configuration"


def _features(store: Store, model: ExpertiseModel, asker: str | None) -> dict[str, dict[str, float]]:
    table = model.table
    asker_id = pid(store, asker) if asker else None
    qf = model.extractor.extract(
        Q, Filters.of(spaces=store.viewer(asker_id).spaces), asker=table.person_index(asker_id)
    )
    out = {}
    for i, c in enumerate(qf.cand.tolist()):
        name = store.get_person(int(table.person_ids[c])).name.lower()
        out[name] = {n: float(v) for n, v in zip(qf.names, qf.x[i], strict=True)}
    return out


def test_question_relative_features_single_out_the_topic_expert(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    f = _features(store, model, None)
    alice, carol = f["alice"], f["carol"]  # carol answers the most, but never about kubernetes
    assert carol["answers"] > alice["answers"]
    assert alice["vote_lift"] > carol["vote_lift"]
    assert alice["vote_share"] == max(v["vote_share"] for v in f.values())
    assert alice["vote_top"] > 0 and carol["vote_top"] == 0
    assert alice["topic_idle"] < carol["topic_idle"]
    assert all(v["asker_helped"] == 0 for v in f.values())  # anonymous asker


def test_asker_helped_counts_earlier_help_to_this_asker(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    frank = _features(store, model, "frank")  # asked the kubernetes questions alice answered
    assert frank["alice"]["asker_helped"] > 0
    assert frank["eve"]["asker_helped"] == 0  # eve only answered hank
    gina = _features(store, model, "gina")  # asked only in a private space, answered by dave
    assert gina["alice"]["asker_helped"] == 0


def test_l2_is_chosen_by_rolling_origin_validation() -> None:
    rng = np.random.default_rng(0)
    groups = []
    for t in range(60):
        x = rng.normal(size=(8, 3))
        y = np.zeros(8)
        y[int(np.argmax(x[:, 0] + 0.3 * rng.normal(size=8)))] = 1.0  # feature 0 decides, 1 and 2 are noise
        groups.append(Group(x, y, float(t)))
    model = fit_time_ordered(groups, ["signal", "noise1", "noise2"])
    validation = model.info["l2_validation"]
    assert isinstance(validation, dict) and set(validation) == {str(v) for v in L2_GRID}
    assert model.l2 in L2_GRID
    assert model.w[0] > abs(model.w[1]) and model.w[0] > abs(model.w[2])
    few = fit_time_ordered(groups[:12], ["signal", "noise1", "noise2"])  # too few to validate: the default
    assert few.l2 == 1.0 and few.info["l2_validation"] == {}


def test_a_refit_from_the_current_weights_finds_the_same_optimum(tmp_path: Path) -> None:
    """The loss is convex: starting from far-off weights (as a refit starts from the current ones) must end where
    a fit from zero ends, and the training groups survive a save and load unchanged."""
    rng = np.random.default_rng(3)
    groups = []
    for t in range(40):
        x = rng.normal(size=(12, 5))
        y = np.zeros(12)
        y[int(np.argmax(x[:, 0] + 0.3 * rng.normal(size=12)))] = 2.0
        groups.append(Group(x, y, float(t)))
    names = [f"f{i}" for i in range(5)]
    cold = fit(groups, names, 0.1)
    warm = fit(groups, names, 0.1, start=np.array([9.0, -40.0, 25.0, 3.0, -7.0]))
    assert np.allclose(cold.w, warm.w, atol=1e-6) and cold.w[0] > 0.5
    save_groups(tmp_path / "g.npz", groups, 5)
    back = load_groups(tmp_path / "g.npz")
    assert len(back) == 40
    assert all(np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) for a, b in zip(groups, back, strict=True))
