"""Topic labels name what sets a topic apart, in phrases people use, and only with words the viewer may read."""

from __future__ import annotations

import pytest

from whoknows.analytics.topic_labels import label_topics, question_terms, stem
from whoknows.analytics.topics import derive_topics, label_match

RATE = [
    "How do we raise the API rate limit for Pinnacle Hotels before the deal closes this quarter?",
    "Pinnacle Hotels keeps hitting the rate limit on the bulk API, can we raise it?",
    "What is the rate limit per hour on the API for the enterprise plan?",
    "Can the rate limits be raised for one tenant only? The deal closes this quarter.",
    "Does the rate limit apply per API key or per account?",
    "Which plan has the highest API rate limit?",
]
HOLD = [
    "Can Vault put a legal hold on a mailbox before the deal closes this quarter?",
    "How long does a legal hold keep the files in Vault?",
    "Who can release a legal hold in Vault once the case is over?",
    "Does a legal hold override the retention policy in Vault?",
    "Is the legal hold visible to the custodian in Vault? The deal closes this quarter.",
    "Can we export everything under a legal hold from Vault?",
]
SOC = [
    "Where is the latest SOC report and the bridge letter?",
    "Can we share the SOC report with Acme before the NDA is signed?",
    "Which period does the SOC report cover this year?",
    "Is Pulse in scope of the SOC report now?",
    "Who sends the bridge letter with the SOC report?",
    "Does the SOC report include the subservice organisations?",
]
DISCOUNT = [
    "Who approves a discount above 30 percent on a renewal?",
    "Can a sales manager approve a discount for a three year renewal?",
    "What discount can I give without approval from finance?",
    "Is a discount on services approved by the same desk?",
    "How fast does finance approve a discount request?",
    "Does the discount approval need the CFO for strategic accounts?",
]
ALL = [*RATE, *HOLD, *SOC, *DISCOUNT]


def test_labels_use_the_phrase_the_questions_share() -> None:
    topics = derive_topics(list(range(len(ALL))), ALL, k=6)
    hold, soc, discount = (topics.label(topics.of_question[ALL.index(t[0])]) for t in (HOLD, SOC, DISCOUNT))
    assert hold.startswith("legal hold"), hold  # the phrase, not "legal / hold"
    assert soc.startswith("SOC report"), soc  # the writers' capitals
    assert discount.startswith("discount"), discount
    rate = {topics.label(topics.of_question[i]) for i in range(len(RATE))}
    assert any(label.startswith("rate limit") for label in rate), rate
    # What the topics share (the filler "the deal closes this quarter") names none of them.
    for label in topics.labels:
        assert not {"closes", "quarter", "deal"} & set(label.replace("/", " ").split()), label


def test_label_keeps_the_most_frequent_surface_form() -> None:
    texts = [*RATE, *HOLD]
    labels, terms = label_topics(texts, [0] * len(RATE) + [1] * len(HOLD), 2)
    assert "rate limit" in labels[0] and "rate limits" not in labels[0]  # 5 x "rate limit", 1 x "rate limits"
    assert "Vault" in terms[1] and "legal" in terms[1]


def test_words_of_unreadable_questions_never_label_a_topic() -> None:
    secret = [f"Is the zanzibar embargo clause binding for the tender {i}? Zanzibar embargo again." for i in range(8)]
    texts = [*ALL, *secret]
    assign = [i // 6 for i in range(len(ALL))] + [4] * len(secret)
    # Topic 0 mixes readable and unreadable questions: only the readable ones may name it.
    assign[len(ALL) : len(ALL) + 4] = [0] * 4
    may = [True] * len(ALL) + [False] * len(secret)
    labels, terms = label_topics(texts, assign, 5, may)
    shown = " ".join(labels + [w for t in terms for w in t])
    for word in ("zanzibar", "embargo", "clause", "binding", "tender"):
        assert word not in shown, (word, labels, terms)
    assert labels[0].startswith("rate limit") and labels[4] == "" and terms[4] == []
    topics = derive_topics(list(range(len(texts))), texts, k=7, may_label=may)
    shown = " ".join(topics.labels + [w for t in topics.terms for w in t])
    assert "zanzibar" not in shown and "embargo" not in shown, shown
    secret_only = {t for q, t in topics.of_question.items() if q >= len(ALL)} - {
        t for q, t in topics.of_question.items() if q < len(ALL)
    }
    assert secret_only and all(topics.labels[t] == f"topic {t + 1} (from spaces you cannot read)" for t in secret_only)
    nothing = derive_topics(list(range(len(texts))), texts, k=7, may_label=[False] * len(texts))
    assert all(label.startswith("topic ") for label in nothing.labels) and not any(nothing.terms)


def test_phrases_are_adjacent_content_words_in_order() -> None:
    terms = question_terms("Can we raise rate limits? Limits, quarter: close.")
    assert set(terms.phrases.values()) == {"raise rate", "rate limits"}
    assert stem("closes") == stem("closing") == stem("close") and stem("hotels") == stem("hotel")


def test_label_match_weights_topics_by_size() -> None:
    truth_labels = {"rl": "API rate limits", "lh": "Vault retention and legal hold"}
    predicted = [0, 0, 0, 1]
    truth = ["rl", "rl", "lh", "lh"]
    assert label_match(predicted, ["rate limit / plans", "legal hold"], truth, truth_labels) == 1.0
    assert label_match(predicted, ["raise / hour", "legal hold"], truth, truth_labels) == 0.25


def test_a_sample_labels_large_organisations_and_small_topics_keep_their_words() -> None:
    """Of more questions than ``sample``, a random sample is counted; a topic with few questions still gets all
    its readable ones (``MIN_TOPIC_SAMPLE``), so it keeps its label."""
    big = [*(RATE * 40), *(HOLD * 40)]  # 480 questions in two topics
    texts = [*big, *SOC]  # and a small topic of 6
    assign = [0] * len(RATE) * 40 + [1] * len(HOLD) * 40 + [2] * len(SOC)
    full, _ = label_topics(texts, assign, 3)
    sampled, _ = label_topics(texts, assign, 3, sample=100)
    assert sampled[0].startswith("rate limit") and sampled[1].startswith("legal hold"), sampled
    assert sampled[2] == full[2] and sampled[2].startswith("SOC report"), (sampled, full)
    # Only readable questions supply words, sampled or not.
    hidden = label_topics(texts, assign, 3, [True] * len(big) + [False] * len(SOC), sample=100)[0]
    assert hidden[2] == ""


def test_tfidf_values_and_vocabulary() -> None:
    import math

    from whoknows.analytics.topics import tfidf

    texts = ["invoice export invoice", "invoice refund", "export refund", "hello there", "pricing pricing pricing"]
    x, vocab = tfidf(texts, min_df=2, max_df=0.5)
    assert vocab == ["export", "invoice", "refund"]  # 2 of 5 texts each ("pricing": 1; "hello", "there": stop words)
    idf = math.log(6 / 3) + 1
    row = x[0].toarray().ravel()  # invoice x2, export x1: sublinear tf, then L2-normalised
    want = [1 * idf, (1 + math.log(2)) * idf, 0.0]
    norm = math.sqrt(sum(v * v for v in want))
    assert row.tolist() == pytest.approx([v / norm for v in want])
    assert x[3].nnz == 0 and x[4].nnz == 0


def test_names_never_label_and_later_parts_are_phrases_or_names() -> None:
    """A person's name written in a topic's questions is no part of its label once names are known; parts after
    the first are phrases or capitalised terms ("API"), never loose common words ("raise", "approve")."""
    texts = [*(q + " Ask Lynna about it." for q in RATE), *HOLD, *SOC, *DISCOUNT]
    assign = [i // 6 for i in range(len(texts))]
    unnamed, _ = label_topics(texts, assign, 4)
    assert "Lynna" in unnamed[0]  # without the directory the name stands out: the test can fail
    labels, terms = label_topics(texts, assign, 4, names=["Lynna Moss", "Bo Chen"])
    assert "lynna" not in " ".join(labels + [w for t in terms for w in t]).lower(), (labels, terms)
    assert labels[0].startswith("rate limit"), labels
    for label in labels:
        for part in label.split(" / ")[1:]:
            assert " " in part or part != part.lower(), (label, part)
