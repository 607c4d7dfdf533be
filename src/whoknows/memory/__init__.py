"""The corporate memory: questions and their solutions extracted from threads, stored as derived rows.

* :mod:`~whoknows.memory.extract` — pure extraction over a thread's posts (:func:`extract_thread`);
* :mod:`~whoknows.memory.repository` — reading threads from the store in partitions and writing the derived
  ``qa_pairs`` / ``qa_solutions`` rows (:func:`rebuild_memory`, :func:`update_memory`).
"""

from __future__ import annotations

from whoknows.memory.extract import extract_thread, extract_threads
from whoknows.memory.rebuild import MemoryStats, rebuild_memory, update_memory
from whoknows.memory.types import Post, QAPair, Solution, ThreadInput
from whoknows.memory.weights import DEFAULT, SolutionModel

__all__ = [
    "DEFAULT",
    "MemoryStats",
    "Post",
    "QAPair",
    "Solution",
    "SolutionModel",
    "ThreadInput",
    "extract_thread",
    "extract_threads",
    "rebuild_memory",
    "update_memory",
]
