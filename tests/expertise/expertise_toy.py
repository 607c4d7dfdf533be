"""A hand-made organisation whose expert orderings can be checked by hand (helpers for the tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whoknows.access import Viewer
from whoknows.ingest import ingest
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.store import Store

SRC = "toy"
T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)
NAMES = ["alice", "bob", "carol", "dave", "eve", "frank", "gina", "olga", "hank"]

K8S = [
    (
        "How do I configure a kubernetes ingress for TLS?",
        "Use a kubernetes ingress with a TLS secret and cert-manager.",
    ),
    ("Kubernetes pods keep restarting, why?", "Check the liveness probe; kubernetes restarts pods that fail it."),
    ("How to scale kubernetes deployments automatically?", "Use the horizontal pod autoscaler in kubernetes."),
    ("Where do kubernetes secrets live?", "Kubernetes secrets are stored in etcd; enable encryption at rest."),
    ("Kubernetes helm chart upgrade failed", "Roll back with helm rollback, then fix the kubernetes chart values."),
]
BILLING = [
    ("How do I issue a refund on an invoice?", "Open the invoice in billing and click refund."),
    ("Invoice shows the wrong VAT rate", "Billing takes VAT from the customer address; fix the address."),
    ("Can we split an invoice across two cost centres?", "Billing supports split invoices under settings."),
    ("Invoice PDF is missing the logo", "Upload the logo in billing branding settings."),
    ("How to change the billing currency?", "Billing currency is fixed per account; open a new account."),
    ("Credit note for a cancelled invoice?", "Create a credit note from the invoice page in billing."),
    ("Billing run failed last night", "Rerun the billing job from the admin console."),
]


class Toy:
    def __init__(self) -> None:
        self.batch = Batch()
        self.n_thread = 0
        self.n_msg = 0
        self.when = T0
        self.thread_first = 0

    def person(self, name: str, opted_out: bool = False) -> None:
        self.batch.people.append(
            Person(
                SRC, name, name.title(), aliases=[Alias(AliasKind.EMAIL, f"{name}@toy.example")], opted_out=opted_out
            )
        )

    def thread(self, space: str, asker: str, question: str, answers: list[tuple[str, str, int, bool]]) -> str:
        self.n_thread += 1
        tid = f"t{self.n_thread}"
        self.when += timedelta(days=1)
        self.batch.threads.append(Thread(SRC, tid, space, question[:40], self.when, url=f"https://toy.example/{tid}"))
        self.thread_first = self.n_msg + 1
        kind = MessageKind.QUESTION if space == "qa" else MessageKind.MESSAGE
        root = self._msg(tid, asker, question, kind)
        for author, text, score, accepted in answers:
            self._msg(
                tid, author, text, MessageKind.ANSWER if space == "qa" else MessageKind.MESSAGE, root, score, accepted
            )
        return tid

    def _msg(
        self,
        tid: str,
        author: str,
        text: str,
        kind: MessageKind,
        reply: str | None = None,
        score: int = 0,
        acc: bool = False,
    ) -> str:
        self.n_msg += 1
        mid = f"m{self.n_msg}"
        when = self.when + timedelta(minutes=10 * (self.n_msg - self.thread_first))
        self.batch.messages.append(
            Message(
                SRC,
                mid,
                tid,
                author,
                when,
                text,
                kind=kind,
                reply_to_ref=reply,
                score=score,
                accepted=acc,
                url=f"https://toy.example/{tid}#{mid}",
            )
        )
        return mid


def toy_batch() -> Batch:
    toy = Toy()
    for name in NAMES:
        toy.person(name, opted_out=name == "olga")
    toy.batch.spaces += [
        Space(SRC, "qa", SpaceKind.QA_SITE, "Toy Answers"),
        Space(SRC, "chan", SpaceKind.CHANNEL, "#help"),
        Space(SRC, "priv", SpaceKind.CHANNEL, "#secret", Visibility.PRIVATE, member_refs=["dave", "gina"]),
    ]
    for i in range(3):  # carol answers billing, a lot
        for q, a in BILLING:
            toy.thread("qa", "frank" if i % 2 else "hank", f"{q} ({i})", [("carol", a, 1, i == 0)])
    for i, (q, a) in enumerate(K8S):  # alice is the kubernetes expert; bob helps sometimes; olga opted out
        answers = [("alice", a, 5, True)]
        if i % 2 == 0:
            answers.append(("bob", "Maybe restart the kubernetes cluster?", 0, False))
        if i < 3:
            answers.append(("olga", f"Olga's kubernetes note: {a}", 9, False))
        toy.thread("qa", "frank", q, answers)
    # eve wrote one message, stuffed with the words
    toy.thread(
        "qa",
        "hank",
        "kubernetes ingress question",
        [("eve", "kubernetes kubernetes ingress ingress tls kubernetes", 0, False)],
    )
    # a private canary only dave and gina can read
    toy.thread(
        "priv",
        "gina",
        "Where is the zebracanary protocol documented?",
        [("dave", "The zebracanary protocol doc is in the vault.", 0, False)],
    )
    return toy.batch


def load_toy(store: Store) -> None:
    ingest(store, "toy", SRC, [toy_batch()])


def pid(store: Store, name: str) -> int:
    person = store.find_person(f"{name}@toy.example", Viewer.system())
    assert person.id is not None
    return person.id
