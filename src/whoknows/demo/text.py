"""Phrasing for the demo: turns a topic's questions and facts into varied chat, e-mail and Q&A text."""

from __future__ import annotations

import random

from whoknows.demo.catalog import COMPETITORS, CUSTOMERS, FEATURES, PRODUCTS, Topic

QUESTION_FRAMES = (
    "{Q}",
    "{Q}",
    "Quick question: {q}",
    "Hi all, {q}",
    "Does anyone know {q}",
    "{Q} Need it for a call with {customer} tomorrow.",
    "Sorry if this was asked before - {q}",
    "{Q} Thanks in advance!",
    "Hey team, {q} The deal closes this quarter.",
    "Customer question: {q}",
    "{Q} Any pointers welcome.",
    "Can someone help? {q}",
    "Asking for {customer}: {q}",
)
EMAIL_FRAMES = (
    "Hi team,\n\n{Q}\n\nThanks,\n{first}",
    "Hello,\n\nI'm working on the {customer} opportunity. {Q}\n\nBest regards,\n{first}",
    "Hi,\n\n{Q} We have a call with them on {weekday}.\n\nThank you!\n{first}",
)
ANSWER_OPENERS = (
    "",
    "",
    "Hi {first}! ",
    "@{handle} ",
    "Good question. ",
    "Yes - ",
    "Short answer: ",
    "We had the same with {customer2}. ",
    "Sure. ",
)
ANSWER_CLOSERS = (
    "",
    "",
    "",
    " Happy to jump on a call.",
    " Ping me if the customer pushes back.",
    " The details are on the wiki page about {label}.",
    " Let me know how it goes.",
    " Loop me in on the thread with them.",
)
HEDGES = (
    "Not 100% sure but I think {fact_lc}",
    "I believe {fact_lc} Maybe double check though.",
    "Last time I heard {fact_lc} Could have changed.",
    "Not my area, I think @{expert} knows this one.",
    "No idea, sorry. Maybe try {channel}?",
    "I think @{expert} handled this for {customer2}.",
)
CLARIFY = (
    "Which edition are they on?",
    "Is this for {product}?",
    "Do they need it before signature?",
    "Which region is the customer in?",
    "Is this a new logo or a renewal?",
    "How big is the deal?",
)
CLARIFY_REPLY = (
    "Enterprise, and it's a new logo.",
    "Yes, {product}.",
    "Before signature unfortunately.",
    "EMEA, they're in Germany.",
    "Renewal with expansion.",
    "Around {n}k ARR.",
)
THANKS = (
    "Thanks @{handle}, that worked!",
    "Perfect, exactly what I needed. Thank you!",
    "Thank you! Sent it to the customer.",
    "Great, thanks both!",
    "That solved it, thanks {first}!",
    "Super helpful, thanks a lot.",
    "Thanks, the customer is happy with that answer.",
)
EMAIL_REPLY = "Hi {first},\n\n{body}\n\nBest,\n{expert_first}"
EMAIL_THANKS = ("Thanks {first}, that's what I needed.", "Perfect, thank you - forwarding to the customer.")
CHATTER = (
    (
        "#wins",
        "Closed {customer} - {n}k ARR on {product}! Huge thanks to @{handle} for the help with {label} :tada:",
    ),
    ("#wins", "{customer} signed a 3 year deal for {product}. Team effort, thanks everyone!"),
    ("#general", "Reminder: the quarterly kickoff is next {weekday}, agenda in the calendar invite."),
    ("#general", "New hires this week, please say hi! :wave:"),
    ("#general", "The {product} release notes for this month are out, check the product updates page."),
    ("#random", "Anyone up for lunch near the office on {weekday}?"),
    ("#random", "Coffee machine on floor 3 is fixed :coffee:"),
    ("#sales-enablement", "New talk track for {product} is live in the enablement portal."),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def slots(rng: random.Random) -> dict[str, object]:
    return {
        "customer": rng.choice(CUSTOMERS),
        "customer2": rng.choice(CUSTOMERS),
        "product": rng.choice(PRODUCTS),
        "competitor": rng.choice(COMPETITORS),
        "n": rng.choice((40, 80, 120, 250, 400, 900)),
        "pct": rng.choice((12, 18, 25, 35, 45)),
        "feature": rng.choice(FEATURES),
        "weekday": rng.choice(WEEKDAYS),
    }


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def question(rng: random.Random, topic: Topic, s: dict[str, object]) -> str:
    """A bare question about ``topic`` (lower-case start, ends with '?')."""
    q = rng.choice(topic.questions).format(**s)
    return q if "?" in q else q + "?"


def chat_question(rng: random.Random, q: str, s: dict[str, object]) -> str:
    return rng.choice(QUESTION_FRAMES).format(Q=cap(q), q=q, **s)


def email_question(rng: random.Random, q: str, s: dict[str, object], first: str) -> str:
    return rng.choice(EMAIL_FRAMES).format(Q=cap(q), first=first, **s)


def answer(
    rng: random.Random,
    topic: Topic,
    s: dict[str, object],
    first: str,
    handle: str,
    *,
    n_facts: int | None = None,
) -> str:
    """An expert's answer: one to three of the topic's facts, with an opener and a closer."""
    k = n_facts or rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
    facts = rng.sample(topic.facts, min(k, len(topic.facts)))
    opener = rng.choice(ANSWER_OPENERS).format(first=first, handle=handle, **s)
    closer = rng.choice(ANSWER_CLOSERS).format(label=topic.label, **s)
    return opener + " ".join(facts) + closer


def hedge(rng: random.Random, topic: Topic, s: dict[str, object], expert_handle: str) -> str:
    """A non-expert's reply: partial, unsure, or a pointer to someone who knows."""
    fact = rng.choice(topic.facts)
    return rng.choice(HEDGES).format(
        fact_lc=fact[:1].lower() + fact[1:], expert=expert_handle, channel=topic.channel, **s
    )


def pick(rng: random.Random, options: tuple[str, ...], **values: object) -> str:
    return rng.choice(options).format(**values)
