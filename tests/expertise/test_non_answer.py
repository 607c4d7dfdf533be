"""Brush-offs, redirects, "I don't know" and pure questions never count as expertise (issue 18, item 5)."""

from __future__ import annotations

import pytest

from whoknows.expertise.evidence import ANSWER, COMMENT, FOLLOWUP, MESSAGE, QUESTION, thread_evidence
from whoknows.expertise.nonanswer import is_non_answer, non_answer_kind
from whoknows.expertise.rows import MessageRow


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("No idea, sorry. Maybe try #security-questions?", "redirect"),
        ("Not my area, I think @felix knows this one.", "redirect"),
        ("I think @dana.ortiz handled this for Acme.", "redirect"),
        ("<@Matthew> might know", "redirect"),
        ("you could ask on the mailing list", "redirect"),
        ("I don't know how to do that in typed racket", "don't know"),
        ("<@Kimbery> just looked at that code and I have no idea!", "don't know"),
        ("hmm, not sure why you're not getting `#\\x` then sorry", "don't know"),
        ("I saw it but haven't had time to look, sorry.", None),  # "I saw it" reads as a statement: kept
        ("haven't had time to look yet, sorry :(", "brush-off"),
        ("Which edition are they on?", "question"),
        ("<@Herman> can you provide a little more background?", "question"),
        ("same problem here, any news?", "question"),
        ("me too?", "question"),
        ("are those in `/tmp`?", "question"),
    ],
)
def test_non_answers(text: str, kind: str | None) -> None:
    assert non_answer_kind(text) == kind
    assert is_non_answer(text) is (kind is not None)


@pytest.mark.parametrize(
    "text",
    [
        "Not 100% sure but I think the limit is 500 seats",
        "I believe the limit is 500 seats. Maybe double check though.",
        "Last time I heard SSO needs Enterprise. Could have changed.",
        "Did you try `raco setup`? That fixed it for me",
        "Did you try raco setup?",
        "Have you listed the file under the `scribblings` key in `info.rkt`?",
        "`string-split`?",
        "No idea, but `(require racket/list)` should do it",
        "I don't know Typed Racket well, but you need `cast` there.",
        "see <https://docs.racket-lang.org/guide/other-editors.html>",
        "Yes.",
        "To Haskell? Yes. To Racket? No.",
        "<@David> I thought there was one, but cannot find it. There's `check-match` from `rackunit`.",
        "Hi Sam! The limit is 500 seats. Happy to jump on a call.",
        "lol",  # chatter is not what this classifier decides
    ],
)
def test_answers_stay_answers(text: str) -> None:
    assert non_answer_kind(text) is None


def _row(
    i: int, author: int, text: str, *, kind: str = "message", reply_to: int | None = None, check: bool = False
) -> MessageRow:
    return MessageRow(
        id=i,
        thread_id=1,
        space_id=1,
        author_id=author,
        kind=kind,
        time=1000.0 + i,
        text=text,
        score=0,
        reactions={"white_check_mark": 1} if check else {},
        accepted=False,
        reply_to_id=reply_to,
    )


def _roles(rows: list[MessageRow]) -> dict[int, int]:
    return {e.message_id: e.role for e in thread_evidence(rows)}


def test_chat_brush_off_is_a_comment_and_a_hedged_answer_stays_an_answer() -> None:
    rows = [
        _row(1, 10, "Does anyone know the seat limit on Professional?"),
        _row(2, 20, "No idea, sorry. Maybe try #pricing-and-deals?"),
        _row(3, 30, "Not my area, I think @felix knows this one."),
        _row(4, 40, "Not 100% sure but I think the limit is 500 seats"),
        _row(5, 10, "Thanks!"),
    ]
    ev = {e.message_id: e for e in thread_evidence(rows)}
    assert [ev[i].role for i in range(1, 6)] == [QUESTION, COMMENT, COMMENT, ANSWER, FOLLOWUP]
    # the asker's thanks credits the latest answer, not the brush-offs
    assert [i for i in ev if ev[i].thanked] == [4]


def test_thanks_after_only_a_brush_off_credits_nobody() -> None:
    rows = [
        _row(1, 10, "Is SSO in Professional?"),
        _row(2, 20, "Not my area, I think @felix knows this one."),
        _row(3, 10, "thanks, will ask him"),
    ]
    assert _roles(rows)[2] == COMMENT
    assert not any(e.thanked for e in thread_evidence(rows))


def test_thanks_replying_to_a_comment_marks_it_thanked_but_it_stays_a_comment() -> None:
    rows = [
        _row(1, 10, "Is SSO in Professional?"),
        _row(2, 20, "I think @felix handled this for Acme."),
        _row(3, 10, "thanks!", reply_to=2),
    ]
    ev = {e.message_id: e for e in thread_evidence(rows)}
    assert ev[2].role == COMMENT and ev[2].thanked


def test_a_check_marked_reply_stays_an_answer() -> None:
    rows = [_row(1, 10, "Is SSO in Professional?"), _row(2, 20, "Which edition are they on?", check=True)]
    ev = {e.message_id: e for e in thread_evidence(rows)}
    assert ev[2].role == ANSWER and ev[2].accepted


def test_a_qa_site_answer_post_stays_an_answer() -> None:
    rows = [
        _row(1, 10, "How do I raise the seat limit?", kind="question"),
        _row(2, 20, "No idea, sorry. Maybe try #pricing-and-deals?", kind="answer"),
        _row(3, 30, "Which edition?", kind="comment"),
    ]
    assert _roles(rows) == {1: QUESTION, 2: ANSWER, 3: COMMENT}


def test_a_thread_that_asks_nothing_keeps_plain_messages() -> None:
    rows = [_row(1, 10, "Release notes are out."), _row(2, 20, "No idea what changed, sorry.")]
    assert set(_roles(rows).values()) == {MESSAGE}


def test_the_labels_keep_precision() -> None:
    """Regression guard on the shipped labels (bench/bench_non_answers.py): a real answer is almost never dropped."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from bench_non_answers import LABELS, read_labels, scores

    rows = read_labels(LABELS)
    assert len(rows) >= 250
    assert scores(rows)["precision"] >= 0.95
