"""Extraction quality on a small demo organisation against its planted truth (floor = measured minus margin)."""

from __future__ import annotations

from whoknows.demo import DemoConfig, DemoGenerator
from whoknows.memory import extract_thread
from whoknows.memory.batches import threads_from_batches

#: Measured on this configuration (4,000 messages, seed 3, accepted flags hidden, default weights): precision
#: 1.000, recall 0.959 (flags visible: 1.000 / 1.000). Floors leave a margin for changes to cues or weights.
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.90


def test_demo_best_answers_are_picked() -> None:
    gen = DemoGenerator(DemoConfig(messages=4_000, seed=3))
    threads = {t.thread_id: t for t in threads_from_batches(gen.batches(), hide_accepted=True)}
    picked = correct = solved = 0
    for tid, truth in gen.truth["threads"].items():
        if truth["best_message"] is None:
            continue
        solved += 1
        pairs = [p for p in extract_thread(threads[tid]) if p.question_id == truth["question_message"]]
        if pairs and pairs[0].best is not None:
            picked += 1
            correct += pairs[0].best.message_id == truth["best_message"]
    assert solved > 500
    assert correct / picked >= PRECISION_FLOOR
    assert correct / solved >= RECALL_FLOOR
