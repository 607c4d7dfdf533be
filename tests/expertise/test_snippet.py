"""Evidence snippets (``expertise.result.snippet``): a window around the first matching word, cut between words."""

from __future__ import annotations

import random

from whoknows.expertise.result import snippet


def test_snippets_start_and_end_on_whole_words() -> None:
    rng = random.Random(3)
    vocab = ["sandbox", "security", "notice", "weeks", "report", "executive", "summary", "a", "pen-test", "NDA"]
    for _ in range(300):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 80))]
        text = "  ".join(words)
        flat = " ".join(words)
        limit = rng.randint(20, 120)
        got = snippet(text, [rng.choice(vocab)], limit)
        body = got.removeprefix("…").removesuffix("…")
        assert len(body) <= limit and body in flat
        at = flat.index(body) if not got.startswith("…") else flat.index(body, 1)
        assert at == 0 or flat[at - 1] == " ", (got, flat)  # no word cut at the start
        end = at + len(body)
        assert end == len(flat) or flat[end] == " " or " " not in body, (got, flat)  # nor at the end
        assert got.startswith("…") == (at > 0) and got.endswith("…") == (end < len(flat))


def test_the_matched_word_is_in_the_snippet() -> None:
    text = "Adding to that: we share the executive summary of the annual pen test under NDA. " * 4 + "Sandbox only."
    assert "Sandbox" in snippet(text, ["sandbox"], 80)
    assert snippet("x" * 500, ["zzz"], 100) == "x" * 100 + "…"  # one overlong word is still cut
