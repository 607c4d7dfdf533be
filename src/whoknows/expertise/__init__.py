"""Expert finding: who knows what, with evidence, learned from the organisation's own history.

Entry points: :func:`build_expertise` (derive the model folder from the store), :func:`find_experts`,
:func:`profile`, :func:`refit` (learn from new outcomes). Rankers conforming to the ranking contract live in
:mod:`whoknows.expertise.rankers`.
"""

from whoknows.expertise.build import build_expertise
from whoknows.expertise.bundle import ExpertiseModel
from whoknows.expertise.errors import (
    ExpertiseCorruptError,
    ExpertiseError,
    ExpertiseMissingError,
    ExpertiseStaleError,
    ExpertiseWrongDatabaseError,
)
from whoknows.expertise.finder import find_experts, open_model
from whoknows.expertise.outcomes import Outcome, refit
from whoknows.expertise.profile import profile
from whoknows.expertise.result import EvidenceItem, Expert, ExpertResult, Profile, Topic

__all__ = [
    "EvidenceItem",
    "Expert",
    "ExpertResult",
    "ExpertiseCorruptError",
    "ExpertiseError",
    "ExpertiseMissingError",
    "ExpertiseModel",
    "ExpertiseStaleError",
    "ExpertiseWrongDatabaseError",
    "Outcome",
    "Profile",
    "Topic",
    "build_expertise",
    "find_experts",
    "open_model",
    "profile",
    "refit",
]
