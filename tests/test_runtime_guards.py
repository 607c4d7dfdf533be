"""Process-wide guards whoknows installs when imported."""

from __future__ import annotations

import ast
import os
import sys
import threading

import whoknows


def test_blas_is_single_threaded_unless_the_user_said_otherwise() -> None:
    assert os.environ.get("OPENBLAS_NUM_THREADS")


def test_literal_eval_is_serialised_on_pythons_with_the_ast_race() -> None:
    affected = sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 1)
    assert getattr(ast.literal_eval, "_whoknows_locked", False) is affected
    whoknows._serialise_literal_eval()  # idempotent: never wrapped twice
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(ast.literal_eval("{'shape': (3,)}"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"shape": (3,)}] * 8
