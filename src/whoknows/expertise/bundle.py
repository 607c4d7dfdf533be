"""The expertise model on disk: a folder derived from the store and rebuildable at any time.

Layout of ``<path>/`` (``expertise/`` in the database's derived folder, :func:`whoknows.derive.derived_dir`):
``manifest.json`` (format, the id of the database and the store fingerprint it was built from, the fitted
half-life, source types), ``evidence.npz``/``evidence.json`` (the evidence table),
``eligible.npy``, ``model.json`` (the learned weights), ``training.npz`` (the training questions, kept so that
:func:`refit` can add outcomes) and ``index/`` (a lexical :class:`~whoknows.index.SearchIndex` of messages).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from whoknows.expertise.errors import (
    ExpertiseCorruptError,
    ExpertiseMissingError,
    ExpertiseStaleError,
    ExpertiseWrongDatabaseError,
)
from whoknows.expertise.features import FeatureExtractor
from whoknows.expertise.learn import LinearModel, write_model
from whoknows.expertise.rankers import LearnedRanker, RankContext
from whoknows.expertise.table import EvidenceTable
from whoknows.index import IndexCorruptError, IndexMissingError, SearchIndex

FORMAT = 3  # 2: question-relative features; 3: their copies standardised per question (older folders are rebuilt)


@dataclass
class ExpertiseModel:
    path: Path
    manifest: dict[str, Any]
    table: EvidenceTable
    index: SearchIndex
    eligible: npt.NDArray[np.bool_]
    model: LinearModel

    def __post_init__(self) -> None:
        self.extractor = FeatureExtractor(
            self.table, self.index, self.eligible, self.half_life, list(self.manifest.get("source_kinds", []))
        )
        self.context = RankContext(self.extractor)
        self.ranker = LearnedRanker(self.context, self.model)

    @property
    def half_life(self) -> float:
        value = self.manifest.get("half_life_days")
        return math.inf if value is None else float(value) * 86_400.0

    @property
    def fingerprint(self) -> dict[str, Any]:
        return dict(self.manifest.get("fingerprint", {}))

    def is_stale(self, fingerprint: Mapping[str, Any]) -> bool:
        return self.fingerprint != dict(fingerprint)

    def require_fresh(self, fingerprint: Mapping[str, Any]) -> None:
        if self.is_stale(fingerprint):
            raise ExpertiseStaleError(
                f"the expertise model at {self.path} was built from an older state of the store "
                f"({self.fingerprint} != {dict(fingerprint)}); rebuild it (build_expertise)",
                details={"model": self.fingerprint, "store": dict(fingerprint)},
            )

    def set_model(self, model: LinearModel) -> None:
        write_model(self.path / "model.json", model)
        self.model = model
        self.ranker = LearnedRanker(self.context, model)

    @classmethod
    def open(cls, path: str | Path, *, database_id: str | None = None) -> ExpertiseModel:
        """The model in the folder ``path``; with ``database_id``, refused (``expertise.wrong_database``) when it
        was built from another database or records none (a model of an older version)."""
        p = Path(path)
        if not (p / "manifest.json").exists():
            raise ExpertiseMissingError(
                f"no expertise model at {p}; build it (build_expertise)", details={"path": str(p)}
            )
        try:
            manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT:
                raise ExpertiseCorruptError(f"the expertise model at {p} has an unknown format; rebuild it")
            if database_id is not None and manifest.get("database_id") != database_id:
                raise ExpertiseWrongDatabaseError(
                    f"the expertise model at {p} belongs to another database "
                    f"({manifest.get('database_id') or 'it records none'}, this one is {database_id}); it is not "
                    "used: rebuild it (whoknows reindex)",
                    details={"path": str(p), "model_database": manifest.get("database_id"), "database": database_id},
                )
            model = LinearModel.from_dict(json.loads((p / "model.json").read_text(encoding="utf-8")))
            eligible = np.load(p / "eligible.npy")
            index = SearchIndex.open(p / "index")
        except (OSError, ValueError, KeyError, AssertionError, IndexMissingError, IndexCorruptError) as exc:
            raise ExpertiseCorruptError(f"the expertise model at {p} is unreadable ({exc}); rebuild it") from exc
        return cls(p, manifest, EvidenceTable.load(p), index, eligible, model)
