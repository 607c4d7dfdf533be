"""Several writers on one index (threads of the server, an import in another process): no update is lost, no
writer fails, and a segment folder left by a crashed writer does not block later writes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from whoknows.index import Doc, SearchIndex


def _docs(start: int, n: int, word: str) -> list[Doc]:
    return [
        Doc(i, f"{word} note number {i} about quarterly pricing", space_id=1 + i % 3) for i in range(start, start + n)
    ]


def test_concurrent_writers_in_threads_and_a_process_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    SearchIndex.build(path, _docs(0, 10, "seed"))
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        index = SearchIndex.open(path)  # each opened before the others wrote: a stale view on purpose
        try:
            for round_ in range(5):
                index.add(_docs(1000 * (t + 1) + 10 * round_, 10, f"thread{t}"))
        except BaseException as e:
            errors.append(e)

    code = (
        "import sys; from whoknows.index import Doc, SearchIndex\n"
        "ix = SearchIndex.open(sys.argv[1])\n"
        "for r in range(5):\n"
        "    ix.add([Doc(90000 + 10 * r + i, f'process note {i}', space_id=2) for i in range(10)])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)])
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(timeout=120) == 0
    assert not errors, errors
    final = SearchIndex.open(path)
    assert len(final) == 10 + 4 * 50 + 50
    for t in range(4):
        assert len(final.search(f"thread{t}", 100, mode="lexical").hits) == 50
    assert len(final.search("process", 100, mode="lexical").hits) == 50
    on_disk = {p.name for p in path.iterdir() if p.name.startswith("seg-")}
    assert on_disk == {s.name for s in final.segments}  # no orphan folders


def test_a_crashed_writers_segment_folder_is_cleared(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    index = SearchIndex.build(path, _docs(0, 5, "seed"))
    orphan = path / f"seg-{index.manifest['next_segment']:06d}"
    orphan.mkdir()
    (orphan / "junk.npy").write_bytes(b"half written")
    index.add(_docs(100, 5, "zebra"))
    again = SearchIndex.open(path)
    assert len(again.search("zebra", 10, mode="lexical").hits) == 5
    assert not (orphan / "junk.npy").exists()
