"""Solutions found in chat: acknowledgements, the asker's follow-up, reply structure, and the chat model."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from memthreads import post, thread

from whoknows.memory import extract_thread, signals
from whoknows.memory.features import CHAT_FEATURES, FEATURES, candidate_features
from whoknows.memory.segment import ordered_posts
from whoknows.memory.types import ThreadInput
from whoknows.memory.weights import CHAT, DEFAULT, model_for

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "slack-chats"


def chat(*posts: object) -> ThreadInput:
    return replace(thread(*posts), space_kind="channel")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["Thanks, I'll have a look", "that worked!", ":+1:", "\U0001f44d", "ah ok, I see", "gotcha", "ty"],
)
def test_acknowledgements(text: str) -> None:
    assert signals.is_ack(text)


@pytest.mark.parametrize("text", ["I have a question about macros", "the build is broken again", "typed racket"])
def test_not_acknowledgements(text: str) -> None:
    assert not signals.is_ack(text)


def test_promises_are_not_answers() -> None:
    assert signals.is_promise("@Natosha I'll add it later today")
    assert signals.is_promise("I will push a repair soon")
    assert not signals.is_promise("You can use `syntax-local-lift-module-end-declaration` for that")


def test_the_asker_acknowledging_a_reply_marks_that_reply() -> None:
    t = chat(
        post("q", "ann", 0, "How do I make `string-trim` available in my #lang?"),
        post("a1", "bob", 5, "@ann your module-begin introduces the require hygienically; inject it from the reader"),
        post("f", "ann", 6, "Thanks, I'll have a look"),
        post("a2", "cyd", 9, "also, modules are not first-class"),
    )
    posts = ordered_posts(t)
    feats = candidate_features(posts, 0, (1, 2, 3))
    assert feats[0]["ack_next"] == 1.0 and feats[0]["asker_next"] == 1.0 and feats[0]["mentions_asker"] == 1.0
    assert feats[2]["ack_next"] == 0.0 and feats[2]["asker_next"] == 0.0
    assert feats[0]["question_asks"] == 1.0 and feats[0]["helper_first"] == 1.0


def test_an_acknowledgement_after_two_helpers_goes_to_the_one_named() -> None:
    t = chat(
        post("q", "ann", 0, "Is there a way to get the list of submodules?"),
        post("a1", "bob", 5, "Use get-module-code and module-compiled-submodules"),
        post("a2", "cyd", 6, "No idea, sorry"),
        post("f", "ann", 7, "@bob that worked, thanks"),
    )
    feats = candidate_features(ordered_posts(t), 0, (1, 2, 3))
    assert feats[0]["ack_next"] == 1.0  # named
    assert feats[1]["ack_next"] == 1.0  # spoke last before the asker
    t2 = chat(*(p if p.id != "f" else replace(p, text="ok, thanks") for p in t.posts))
    feats2 = candidate_features(ordered_posts(t2), 0, (1, 2, 3))
    assert feats2[0]["ack_next"] == 0.0 and feats2[1]["ack_next"] == 1.0


def test_chat_threads_use_the_chat_model() -> None:
    t = chat(post("q", "ann", 0, "How do I pass #t to date->string?"))
    assert model_for(t) is CHAT
    assert model_for(replace(t, space_kind="qa_site")) is DEFAULT
    assert model_for(replace(t, space_kind=None)) is DEFAULT
    answered = replace(t, posts=(*t.posts, post("a", "bob", 5, "Like this", kind="answer")))
    assert model_for(answered) is DEFAULT
    assert set(CHAT.weights) == set(CHAT_FEATURES) and set(DEFAULT.weights) == set(FEATURES)


def test_a_helpful_reply_followed_by_thanks_ill_have_a_look_is_recorded() -> None:
    """The issue's case: a short helpful reply, then the asker's "Thanks, I'll have a look"."""
    t = chat(
        post("q", "ann", 0, "why does (date->string (seconds->date (current-seconds))) not print the time portion?"),
        post("a1", "bob", 3, "@ann pass `#t` as the optional second argument"),
        post("f", "ann", 5, "Thanks, I'll have a look"),
    )
    [pair] = extract_thread(t)
    assert pair.best is not None and pair.best.message_id == "a1"
    assert pair.best.signals["ack_next"] == 1.0 and pair.best.confidence >= CHAT.threshold


def test_a_remark_with_a_reply_gets_no_solution() -> None:
    t = chat(
        post("q", "ann", 0, "I love the comments in this file, great read"),
        post("a1", "bob", 60, "I'll fix the compiler warnings this afternoon"),
    )
    pairs = extract_thread(t)
    assert all(p.best is None for p in pairs)


def test_benchmark_on_the_racket_labels() -> None:
    """The labelled racket sample: the chat model, fitted on two years, beats today's extractor on the third."""
    if not DATA.is_dir():
        pytest.skip(f"needs the racket chats in {DATA} (../shared/data, see its README)")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_chat_extraction as bench  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    labels = bench.read_labels(bench.LABELS)
    assert len(labels) >= 150 and {label.year for label in labels} == set(bench.YEARS)
    convs = {y: bench.load_year(DATA / f"racket-general-{y}.xml", y) for y in bench.YEARS}
    items = {y: [(lb, convs[y][lb.conversation_id].thread) for lb in labels if lb.year == y] for y in bench.YEARS}
    results = bench.held_out(items)
    for year, rows in results.items():
        strict, best_f1, _, today, _ = (m for _, m in rows)
        assert strict["P"] >= 0.75 and strict["R"] > today["R"], year  # measured 0.80-0.88 / 0.23-0.46
        assert best_f1["F1"] > today["F1"] + 0.2, year  # measured 0.56-0.68 against 0.16-0.33
