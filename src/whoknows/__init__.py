"""whoknows: a self-hosted corporate memory of know-how and a map of who knows what."""

import os

# Query-time vector products are small; with a multi-threaded BLAS each one spreads over every core and waits
# whenever another process holds one (p99 of `ask` at 1M messages: 373 ms with the default, 42 ms with one thread,
# measured by bench/bench_ask_latency.py on a busy 2-core machine). Must be set before numpy is imported; a value
# the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"


def _serialise_literal_eval() -> None:
    """CPython before 3.11.8 / 3.12.1 can raise ``SystemError: AST constructor recursion depth mismatch`` when two
    threads parse at once (gh-106905). numpy parses every ``.npy`` header with ``ast.literal_eval``, and the
    server opens index segments and model files from several request threads, so on those versions the calls
    are serialised with one lock (they are short: a header is a few dozen bytes)."""
    import sys

    if sys.version_info >= (3, 12, 1) or (3, 11, 8) <= sys.version_info < (3, 12):
        return
    import ast
    import functools
    import threading

    if getattr(ast.literal_eval, "_whoknows_locked", False):
        return
    original = ast.literal_eval
    lock = threading.Lock()

    @functools.wraps(original)
    def literal_eval(node_or_string):  # type: ignore[no-untyped-def]
        with lock:
            return original(node_or_string)

    literal_eval._whoknows_locked = True  # type: ignore[attr-defined]
    ast.literal_eval = literal_eval


_serialise_literal_eval()
