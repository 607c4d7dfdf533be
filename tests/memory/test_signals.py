"""Text and reaction cues."""

from __future__ import annotations

import pytest

from whoknows.memory import signals


@pytest.mark.parametrize(
    "text",
    [
        "Does anyone know how to rotate the SSO certificate?",
        "how do I get a sandbox for Acme",
        "Is there a discount floor for 3-year deals?",
        "can we sign a DPA with a German customer?",
        "I'm trying to build racket on Windows and the linker fails",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    assert signals.question_strength(text) >= 0.8


@pytest.mark.parametrize("text", ["Closed Acme today, thanks team!", "Reminder: kickoff on Monday.", "ok"])
def test_statements_are_not_questions(text: str) -> None:
    assert signals.question_strength(text) < 0.5


def test_feedback_cues() -> None:
    assert signals.is_thanks("Thanks @bob, that worked!")
    assert signals.is_thanks("Perfect, exactly what I needed")
    assert not signals.is_thanks("Which edition are they on?")
    assert signals.is_failure("Tried it, still getting the same error")
    assert signals.is_self_resolved("Never mind, turns out the proxy was blocking it")
    assert signals.is_hedge("No idea, sorry. Maybe ask @cyd?")
    assert signals.is_hedge("Not my area, I think @cyd knows this one.")
    assert not signals.is_hedge("Set `timeout=30` in the config, see https://docs.example/x")


def test_content_and_reactions() -> None:
    assert signals.has_link("see https://example.org/a") and not signals.has_link("see the wiki")
    assert signals.has_code("run `raco pkg install`") and not signals.has_code("just restart it")
    assert signals.positive_reactions({"white_check_mark": 1, "+1::skin-tone-2": 2, "eyes": 5}) == 3
    assert signals.check_reactions({":heavy_check_mark:": 1}) == 1
    assert signals.negative_reactions({"-1": 2}) == 2


def test_mentions_match_whole_names() -> None:
    assert signals.mentions_any("Thanks @ann.lee!", ("ann.lee",))
    assert signals.mentions_any("thanks Bob", ("bob",))
    assert not signals.mentions_any("thanks bobby", ("bob",))
    assert not signals.mentions_any("thanks", ())
