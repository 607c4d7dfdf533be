"""The combined answer on top: sentences of the confident solution lead those of a doubtful one."""

from __future__ import annotations

from whoknows.memory.ask import MemoryHit
from whoknows.memory.confidence import QueryTerms
from whoknows.memory.summary import combined_answer


def _hit(qid: int, confidence: float, solution: str) -> MemoryHit:
    return MemoryHit(qid, 1.0, confidence, f"question {qid}", None, None, "sales", "public", None, solution)


def test_the_confident_solution_leads_and_a_doubtful_one_follows() -> None:
    q = QueryTerms(frozenset({"sso", "saml", "custom"}), {"sso": 2.0, "custom": 3.0}, 6.0)
    doubtful = _hit(1, 0.25, "The customer must enable the HIPAA workspace setting before legal signs anything.")
    confident = _hit(2, 0.9, "SSO is included from the Professional edition while SCIM provisioning needs Enterprise.")
    answer = combined_answer(q, [doubtful, confident])
    assert [a.question_id for a in answer] == [2, 1]
    assert [a.card for a in answer] == [2, 1]
    # below "related" a solution gives no sentence at all
    assert [a.question_id for a in combined_answer(q, [_hit(1, 0.1, doubtful.solution or ""), confident])] == [2]
