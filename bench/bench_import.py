"""Import throughput on the real data in ../shared/data, each case into a fresh SQLite file in a temp dir.

    python bench/bench_import.py                      # every case, default datasets
    python bench/bench_import.py stackexchange=/path/to/site.stackexchange.com slack-chats=/path/to/folder
    python bench/bench_import.py slack=/path/to/export.zip slack-generated=1000000 email-generated=20000

Generated cases (``*-generated=N``) build a synthetic input of about N messages in a temp dir first (not timed).

Cases form a small registry (:data:`CASES`): add a row per importer and dataset.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whoknows.importers import reader_for
from whoknows.ingest import ingest
from whoknows.store import open_store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass(frozen=True)
class Case:
    importer: str  # the ``whoknows import`` kind
    dataset: Path


def import_once(kind: str, path: Path) -> tuple[int, float]:
    """(messages written, seconds) for one import into a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        started = time.perf_counter()
        reader = reader_for(kind, path)
        result = ingest(store, kind, reader.source, reader.batches(), location=str(path))
        elapsed = time.perf_counter() - started
        store.close()
    return result.stats.counts.get("messages", {}).get("new", 0), elapsed


def bench_stackexchange(path: Path) -> tuple[int, float]:
    return import_once("stackexchange", path)


def bench_slack_chats(path: Path) -> tuple[int, float]:
    return import_once("slack-chats", path)


def bench_slack(path: Path) -> tuple[int, float]:
    return import_once("slack", path)


def bench_slack_generated(size: Path) -> tuple[int, float]:
    """A synthetic Slack export folder (bench/gen_slack_export.py) of ``size`` messages."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_slack_export import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "export", int(size.name))
        return import_once("slack", Path(tmp) / "export")


def bench_email_generated(size: Path) -> tuple[int, float]:
    """An mbox of ``size`` messages: threads of 1-5 messages with quoted replies and signatures."""
    import random

    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        mbox = Path(tmp) / "bench.mbox"
        with open(mbox, "w") as fh:
            root = ""
            for i in range(int(size.name)):
                sender = f"user{rng.randrange(300)}@example.com"
                reply = i % 4 != 0
                root = root if reply else f"<m{i}@example.com>"
                fh.write(
                    f"From {sender} Mon Jan  4 10:00:00 2021\nMessage-ID: <m{i}@example.com>\nFrom: User <{sender}>\n"
                    f"To: team{i % 7}@example.com\nSubject: {'Re: ' if reply else ''}Topic {i - i % 4}\n"
                    + (f"In-Reply-To: {root}\nReferences: {root}\n" if reply else "")
                    + f"Date: Mon, 4 Jan 2021 10:{i % 60:02d}:00 +0000\n\nHow do we handle case {i}?\n\n"
                    "On Mon, Jan 4, 2021 someone wrote:\n> earlier text\n\n-- \nSignature\n\n"
                )
        return import_once("email", mbox)


def bench_tickets_generated(size: Path) -> tuple[int, float]:
    """A tickets JSONL file with ``size`` comments, four per ticket."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.jsonl"
        with open(path, "w") as fh:
            for t in range(int(size.name) // 4):
                comments = [{"author": f"agent{c % 20}@example.com" if c else f"cust{t % 500}@example.com",
                             "created_at": 1_609_459_200 + t * 60 + c, "body": f"Comment {c} on ticket {t}"}
                            for c in range(4)]  # fmt: skip
                fh.write(json.dumps({"ticket_id": t, "queue": f"Q{t % 5}", "subject": f"Problem {t}",
                                     "requester": f"cust{t % 500}@example.com", "status": "solved",
                                     "created_at": 1_609_459_200 + t * 60, "comments": comments}) + "\n")  # fmt: skip
        return import_once("tickets", path)


RUNNERS: dict[str, Callable[[Path], tuple[int, float]]] = {
    "stackexchange": bench_stackexchange,
    "slack-chats": bench_slack_chats,
    "slack": bench_slack,
    "slack-generated": bench_slack_generated,
    "email-generated": bench_email_generated,
    "tickets-generated": bench_tickets_generated,
}
#: Runners whose "dataset" is a size, not a path.
GENERATED = {"slack-generated", "email-generated", "tickets-generated"}
CASES: list[Case] = [
    Case("stackexchange", DATA / "stackexchange" / "ai.stackexchange.com"),
    Case("stackexchange", DATA / "stackexchange" / "beer.stackexchange.com"),
    Case("slack-chats", DATA / "slack-chats"),
    Case("slack-generated", Path("1000000")),
    Case("email-generated", Path("20000")),
    Case("tickets-generated", Path("100000")),
]


def main(argv: list[str]) -> None:
    cases = [Case(kind, Path(path)) for kind, _, path in (a.partition("=") for a in argv)] or CASES
    print(f"{'importer':<15} {'dataset':<28} {'messages':>9} {'seconds':>8} {'messages/s':>11}")
    for case in cases:
        if case.importer not in GENERATED and not case.dataset.exists():
            print(f"{case.importer:<15} {case.dataset.name:<28} skipped: {case.dataset} is missing")
            continue
        messages, seconds = RUNNERS[case.importer](case.dataset)
        print(
            f"{case.importer:<15} {case.dataset.name:<28} {messages:>9,} {seconds:>8.2f} {messages / seconds:>11,.0f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
