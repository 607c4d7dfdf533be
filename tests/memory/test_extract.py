"""Picking solutions in hand-written threads (pure functions, default weights)."""

from __future__ import annotations

from memthreads import post, thread

from whoknows.memory import extract_thread
from whoknows.memory.extract import snippet


def test_accepted_answer_wins_over_votes() -> None:
    t = thread(
        post("q", "ann", 0, "How do I reset the sandbox?", kind="question"),
        post("a1", "bob", 10, "Use the admin console, Settings > Sandbox > Reset.", kind="answer", score=10),
        post("a2", "cyd", 20, "Open a ticket with support.", kind="answer", score=1, accepted=True),
    )
    [pair] = extract_thread(t)
    assert pair.best is not None and pair.best.message_id == "a2"
    assert pair.best.signals["accepted"] == 1.0 and pair.best.confidence >= 0.99
    assert pair.best.solver_id == "cyd" and pair.asker_id == "ann"


def test_votes_pick_when_nothing_is_accepted() -> None:
    t = thread(
        post("q", "ann", 0, "What is backprop?", kind="question"),
        post("a1", "bob", 10, "No idea.", kind="answer", score=0),
        post(
            "a2",
            "cyd",
            20,
            "Backprop is short for backpropagation of errors, see https://x.org",
            kind="answer",
            score=7,
        ),
    )
    [pair] = extract_thread(t)
    assert pair.best is not None and pair.best.message_id == "a2"


def test_thanks_reply_identifies_the_solver_in_chat() -> None:
    t = thread(
        post("q", "ann", 0, "Does anyone know the discount floor for 3-year deals?"),
        post("r1", "bob", 5, "Not sure, I think @cyd knows this one.", reply_to_id="q"),
        post(
            "r2",
            "cyd",
            30,
            "The floor is 18% for 3-year commits; above that it needs deal desk approval.",
            reply_to_id="q",
        ),
        post("r3", "dee", 40, "Also check the pricing page for the current list price.", reply_to_id="q"),
        post("th", "ann", 50, "Thanks @cyd, that worked!", reply_to_id="q"),
    )
    [pair] = extract_thread(t)
    assert pair.question_id == "q"
    assert pair.best is not None and pair.best.message_id == "r2" and pair.best.solver_id == "cyd"
    assert pair.best.signals["thanked_direct"] == 1.0
    assert "r1" not in [s.message_id for s in pair.solutions]


def test_reaction_marks_the_solution() -> None:
    t = thread(
        post("q", "ann", 0, "can we ship to Brazil?"),
        post("r1", "bob", 5, "I believe yes, via the partner."),
        post(
            "r2",
            "cyd",
            9,
            "Yes, through the Sao Paulo distributor; lead time 3 weeks.",
            reactions={"white_check_mark": 1},
        ),
    )
    [pair] = extract_thread(t)
    assert pair.best is not None and pair.best.message_id == "r2"


def test_hedge_pointer_is_not_a_solution() -> None:
    t = thread(
        post("q", "ann", 0, "Is there a SOC 2 report we can share?"),
        post("r1", "bob", 5, "No idea, ask @cyd", reply_to_id="q"),
    )
    [pair] = extract_thread(t)
    assert pair.solutions == ()


def test_asker_own_answer_resolves_it() -> None:
    t = thread(
        post("q", "ann", 0, "How do I build racket on Windows? The linker fails."),
        post("r1", "bob", 5, "hmm, same problem here", reply_to_id="q"),
        post("s", "ann", 60, "Turns out the fix was to install the VS 2019 build tools and run `raco setup` again."),
    )
    [pair] = extract_thread(t)
    assert pair.best is not None and pair.best.message_id == "s" and pair.best.solver_id == "ann"


def test_unanswered_question_has_no_solution() -> None:
    [pair] = extract_thread(thread(post("q", "ann", 0, "Anyone know the SLA for EU customers?")))
    assert pair.question_id == "q" and pair.solutions == () and pair.best is None


def test_statement_without_replies_is_no_question() -> None:
    assert extract_thread(thread(post("m", "ann", 0, "Closed Acme today :tada:"))) == []


def test_first_message_with_replies_is_a_question_even_without_question_mark() -> None:
    t = thread(
        post("q", "ann", 0, "getting a linker error building the docs on windows"),
        post("r", "bob", 3, "You need to set PLT_CS_DEBUG=1 and rebuild, see https://docs.racket-lang.org/x"),
        post("th", "ann", 9, "thanks, that fixed it"),
    )
    [pair] = extract_thread(t)
    assert pair.question_confidence == 0.5
    assert pair.best is not None and pair.best.message_id == "r"


def test_multi_question_thread() -> None:
    t = thread(
        post("q1", "ann", 0, "How do I export the pipeline report?"),
        post("a1", "bob", 5, "Reports > Pipeline > Export, pick CSV."),
        post("t1", "ann", 8, "Perfect, thanks bob"),
        post("q2", "dee", 30, "Different topic: does anyone know who owns the EMEA partner list?"),
        post("a2", "cyd", 35, "That's Priya in Alliances, the list is in the partner portal https://p.example"),
        post("t2", "dee", 40, "thanks @cyd!"),
    )
    pairs = extract_thread(t)
    assert [p.question_id for p in pairs] == ["q1", "q2"]
    assert [p.best.message_id if p.best else None for p in pairs] == ["a1", "a2"]
    assert [p.asker_id for p in pairs] == ["ann", "dee"]


def test_clarifying_question_stays_in_the_thread() -> None:
    t = thread(
        post("q", "ann", 0, "Can we offer net-60 payment terms?"),
        post("c", "bob", 5, "Which region is the customer in?", reply_to_id="q"),
        post("cr", "ann", 7, "EMEA, Germany."),
        post("a", "bob", 9, "In EMEA net-60 is fine up to 100k ARR; above that finance signs off.", reply_to_id="q"),
        post("th", "ann", 12, "Great, thanks Bob!"),
    )
    pairs = extract_thread(t)
    assert len(pairs) == 1 and pairs[0].best is not None and pairs[0].best.message_id == "a"


def test_snippet_cuts_at_words() -> None:
    assert snippet("a  b\nc", 10) == "a b c"
    cut = snippet("word " * 100, 40)
    assert len(cut) <= 40 and cut.endswith("…")
