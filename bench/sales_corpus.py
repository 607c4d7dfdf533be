"""A generator of varied, sales-like short texts (deterministic) for latency benchmarks at scale."""

from __future__ import annotations

import random
from collections.abc import Iterator


def _words(text: str, sep: str | None = None) -> list[str]:
    return [w.strip() for w in text.split(sep)]


SUBJECTS = _words("customer prospect client buyer account team partner vendor reseller distributor")
PRODUCTS = _words(
    "license subscription renewal contract invoice quote discount pricing onboarding integration api sso vpn "
    "dashboard report export import migration trial demo support sla uptime storage seats plan tier bundle "
    "addon upgrade downgrade refund payment tax procurement security compliance gdpr audit encryption backup"
)
VERBS = _words(
    "asked about|needs help with|wants to change|is blocked by|complained about|requested|approved|rejected|"
    "escalated|renegotiated|cancelled|extended",
    "|",
)
QUALIFIERS = _words(
    "annual monthly enterprise startup regional global urgent quarterly legacy custom premium standard "
    "european american asian nonprofit education healthcare retail banking"
)
TEMPLATES = (
    "{s} {v} the {q} {p} for {p2}",
    "how do we handle {q} {p} when the {s} {v} {p2}?",
    "the {s} {v} {p} and {p2}, any {q} precedent?",
    "{q} {p}: {s} {v} {p2} before end of quarter",
    "who knows the {p} process for a {q} {s}? they {v} {p2}",
)


def sentences(n: int, seed: int = 7) -> Iterator[str]:
    rnd = random.Random(seed)
    rare = [f"{rnd.choice(PRODUCTS)}{i}" for i in range(20_000)]  # a long tail of rare product codes
    for _ in range(n):
        text = rnd.choice(TEMPLATES).format(
            s=rnd.choice(SUBJECTS),
            v=rnd.choice(VERBS),
            q=rnd.choice(QUALIFIERS),
            p=rnd.choice(PRODUCTS),
            p2=rnd.choice(PRODUCTS if rnd.random() < 0.7 else rare),
        )
        yield text


def queries(n: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        words = rnd.sample(PRODUCTS, rnd.randint(1, 3)) + rnd.sample(QUALIFIERS, rnd.randint(0, 2))
        if rnd.random() < 0.3:
            words.append(rnd.choice(SUBJECTS))
        out.append(("how do we " if rnd.random() < 0.4 else "") + " ".join(words))
    return out
