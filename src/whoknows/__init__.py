"""whoknows: a self-hosted corporate memory of know-how and a map of who knows what."""

import os

# Query-time vector products are small; with a multi-threaded BLAS each one spreads over every core and waits
# whenever another process holds one (p99 of `ask` at 1M messages: 373 ms with the default, 42 ms with one thread,
# measured by bench/bench_ask_latency.py on a busy 2-core machine). Must be set before numpy is imported; a value
# the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
