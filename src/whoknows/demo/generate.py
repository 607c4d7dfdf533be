"""The demo generator: a seeded stream of batches (people, spaces, threads, messages) plus its ground truth.

Questions are asked mostly by customer-facing people and answered, most of the time, by the people planted
as experts of the question's topic; sometimes a colleague who does not really know replies first with a
hedge or a pointer. Threads land in Slack-like channels, DMs, shared mailboxes, an internal Q&A site, a
ticket queue and CRM notes. The truth (topic, asker, answerers, best answer) is kept apart from the data.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from whoknows.demo import text
from whoknows.demo.catalog import COMPANY, DEPARTMENTS, DOMAIN, SILO_DEPARTMENT, TOPICS, Topic
from whoknows.demo.org import TZ_OFFSET, DemoPerson, askers_for, build_people, plant_experts
from whoknows.model import (
    Alias,
    AliasKind,
    Batch,
    Message,
    MessageKind,
    Person,
    Space,
    SpaceKind,
    Thread,
    Visibility,
)

MEDIA = ("chat", "dm", "email", "qa", "ticket", "crm")
MEDIA_WEIGHTS = (0.60, 0.05, 0.11, 0.14, 0.06, 0.04)
PRIVATE_CHANNELS = {
    "#partner-alliances": SILO_DEPARTMENT,
    "#deal-desk-approvals": "Sales",
    "#legal-team": "Legal",
}
QA_SITE = "Northwind Answers"
TICKET_QUEUE = "Sales escalations to Support"
CRM_SPACE = "CRM opportunity notes"


@dataclass
class DemoConfig:
    messages: int = 20_000
    people: int | None = None
    seed: int = 7
    months: int = 6
    start: datetime = field(default_factory=lambda: datetime(2026, 1, 5, tzinfo=UTC))

    @property
    def n_people(self) -> int:
        return self.people if self.people else max(300, self.messages // 100)


@dataclass
class _SpaceSpec:
    external_id: str
    kind: SpaceKind
    name: str
    visibility: Visibility
    members: set[int] = field(default_factory=set)
    description: str | None = None
    emitted: bool = False


class _Plan(NamedTuple):
    """One question to stage: about what, who asks, who (secretly) knows, the words, slot values, when."""

    topic: Topic
    asker: DemoPerson
    expert: DemoPerson
    q: str
    s: dict[str, Any]
    when: datetime


class DemoGenerator:
    """Iterate :meth:`batches`; afterwards :attr:`truth` holds the planted ground truth."""

    def __init__(self, config: DemoConfig):
        self.config = config
        self.rng = random.Random(config.seed)
        self.source = f"demo:{config.seed}"
        self.people = build_people(self.rng, config.n_people)
        self.experts = plant_experts(self.rng, self.people)
        self.topics = {t.key: t for t in TOPICS}
        self.spaces: dict[str, _SpaceSpec] = {}
        self._msg_ids = itertools.count(1)
        self._thread_ids = itertools.count(1)
        self.truth: dict[str, Any] = {
            "company": COMPANY,
            "seed": config.seed,
            "source": self.source,
            "silo_department": SILO_DEPARTMENT,
            "single_expert_topics": [t.key for t in TOPICS if t.n_experts == 1],
            "topics": {
                t.key: {
                    "label": t.label,
                    "category": t.category,
                    "experts": [[self.people[i].external_id, round(w, 4)] for i, w in self.experts[t.key]],
                }
                for t in TOPICS
            },
            "threads": {},
        }
        self._askers = {t.key: askers_for(t, self.people, SILO_DEPARTMENT) for t in TOPICS}
        self._askers_cum = {k: list(itertools.accumulate(w)) for k, (_, w) in self._askers.items()}
        chat = {d.name: d.chat for d in DEPARTMENTS}
        self._talk_weights = list(itertools.accumulate(chat[p.department] * p.activity for p in self.people))
        topic_weights = [1.0 / (i + 1) ** 0.5 for i in range(len(TOPICS))]
        self.rng.shuffle(topic_weights)
        self._topic_cum = list(itertools.accumulate(topic_weights))
        self._setup_spaces()

    # -- spaces -----------------------------------------------------------------------------------------------
    def _space(self, name: str, kind: SpaceKind, visibility: Visibility, description: str | None = None) -> _SpaceSpec:
        if name not in self.spaces:
            ext = "s-" + name.strip("#").replace("@", "-at").replace(" ", "-").lower()
            self.spaces[name] = _SpaceSpec(ext, kind, name, visibility, description=description)
        return self.spaces[name]

    def _setup_spaces(self) -> None:
        for name in sorted({t.channel for t in TOPICS} | {"#general", "#wins", "#random", "#sales-enablement"}):
            if name in PRIVATE_CHANNELS:
                continue
            self._space(name, SpaceKind.CHANNEL, Visibility.PUBLIC)
        for name, dept in PRIVATE_CHANNELS.items():
            spec = self._space(name, SpaceKind.CHANNEL, Visibility.PRIVATE)
            spec.members |= {
                p.idx
                for p in self.people
                if p.department == dept
                and (dept != "Sales" or p.role in ("Sales Manager", "Regional VP", "Deal Desk Analyst"))
            }
        for t in TOPICS:
            if t.mailbox:
                spec = self._space(t.mailbox, SpaceKind.MAILBOX, Visibility.PRIVATE, f"Shared mailbox {t.mailbox}")
                spec.members |= {i for i, _ in self.experts[t.key]}
        self._space(QA_SITE, SpaceKind.QA_SITE, Visibility.PUBLIC, "Internal Q&A site")
        queue = self._space(TICKET_QUEUE, SpaceKind.TICKET_QUEUE, Visibility.PRIVATE)
        queue.members |= {p.idx for p in self.people if p.department == "Support"}
        crm = self._space(CRM_SPACE, SpaceKind.CRM, Visibility.PRIVATE)
        crm.members |= {p.idx for p in self.people if p.department in ("Sales", "Customer Success")}

    def _space_record(self, spec: _SpaceSpec) -> Space:
        members = (
            [self.people[i].external_id for i in sorted(spec.members)] if spec.visibility == Visibility.PRIVATE else []
        )
        return Space(
            self.source,
            spec.external_id,
            spec.kind,
            spec.name,
            spec.visibility,
            spec.description,
            member_refs=members,
        )

    # -- people -----------------------------------------------------------------------------------------------
    def _person_record(self, p: DemoPerson) -> Person:
        return Person(
            self.source,
            p.external_id,
            p.name,
            aliases=[
                Alias(AliasKind.EMAIL, p.email),
                Alias(AliasKind.HANDLE, p.handle),
                Alias(AliasKind.NAME, p.name),
            ],
            department=p.department,
            team=p.team,
            role=p.role,
            timezone=p.timezone,
            listed=True,  # the demo organisation's staff list
        )

    # -- time -------------------------------------------------------------------------------------------------
    def _start_time(self, progress: float, person: DemoPerson) -> datetime:
        days = int(progress * self.config.months * 30.4)
        day = self.config.start + timedelta(days=days)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        local_hour = self.rng.uniform(8.5, 17.5)
        utc_hour = local_hour - TZ_OFFSET.get(person.timezone, 0)
        return day.replace(hour=0, minute=0, second=0) + timedelta(hours=utc_hour)

    def _later(self, when: datetime, mean_minutes: float = 40.0) -> datetime:
        return when + timedelta(minutes=min(self.rng.expovariate(1 / mean_minutes), 60 * 24 * 3) + 1)

    # -- generation -------------------------------------------------------------------------------------------
    def batches(self, batch_size: int = 5_000) -> Iterator[Batch]:
        target = self.config.messages
        first = Batch(
            people=[self._person_record(p) for p in self.people],
            spaces=[self._space_record(s) for s in self.spaces.values()],
        )
        for s in self.spaces.values():
            s.emitted = True
        yield first
        batch = Batch()
        made = 0
        while made < target:
            before = len(batch.messages)
            if self.rng.random() < 0.08:
                self._chatter(batch, made / target)
            else:
                self._qa_thread(batch, made / target)
            made += len(batch.messages) - before
            if len(batch.messages) >= batch_size:
                yield batch
                batch = Batch()
        # Private spaces gained members (askers in mailboxes, queues): their final member lists.
        batch.spaces.extend(
            self._space_record(s)
            for s in self.spaces.values()
            if s.visibility == Visibility.PRIVATE and s.kind != SpaceKind.DM
        )
        yield batch

    def _new_space(self, batch: Batch, spec: _SpaceSpec) -> None:
        if not spec.emitted:
            batch.spaces.append(self._space_record(spec))
            spec.emitted = True

    def _thread(
        self,
        batch: Batch,
        spec: _SpaceSpec,
        title: str | None,
        when: datetime,
        meta: dict[str, Any] | None = None,
    ) -> str:
        ext = f"t{next(self._thread_ids):07d}"
        batch.threads.append(
            Thread(
                self.source,
                ext,
                spec.external_id,
                title,
                when,
                url=f"https://chat.{DOMAIN}/archives/{ext}",
                meta=meta or {},
            )
        )
        return ext

    def _msg(
        self,
        batch: Batch,
        thread: str,
        author: DemoPerson,
        when: datetime,
        body: str,
        kind: MessageKind = MessageKind.MESSAGE,
        reply_to: str | None = None,
        **extra: Any,
    ) -> str:
        ext = f"m{next(self._msg_ids):08d}"
        batch.messages.append(
            Message(
                self.source,
                ext,
                thread,
                author.external_id,
                when,
                body,
                kind=kind,
                reply_to_ref=reply_to,
                **extra,
            )
        )
        return ext

    def _pick_topic(self) -> Topic:
        return TOPICS[self.rng.choices(range(len(TOPICS)), cum_weights=self._topic_cum)[0]]

    def _pick_expert(self, topic: Topic, exclude: int | None = None) -> DemoPerson | None:
        pool = [(i, w) for i, w in self.experts[topic.key] if i != exclude]
        if not pool:
            return None
        return self.people[self.rng.choices([i for i, _ in pool], weights=[w for _, w in pool])[0]]

    def _pick_bystander(self, exclude: set[int]) -> DemoPerson:
        while True:
            p = self.people[self.rng.choices(range(len(self.people)), cum_weights=self._talk_weights)[0]]
            if p.idx not in exclude:
                return p

    def _chatter(self, batch: Batch, progress: float) -> None:
        channel, template = self.rng.choice(text.CHATTER)
        author = self._pick_bystander(set())
        s = text.slots(self.rng)
        topic = self._pick_topic()
        helper = self._pick_expert(topic) or author
        body = template.format(handle=helper.handle, label=topic.label, **s)
        spec = self.spaces[channel]
        when = self._start_time(progress, author)
        thread = self._thread(batch, spec, None, when)
        self._msg(
            batch,
            thread,
            author,
            when,
            body,
            reactions={"tada": self.rng.randint(1, 9)} if channel == "#wins" else {},
        )

    def _qa_thread(self, batch: Batch, progress: float) -> None:
        rng = self.rng
        topic = self._pick_topic()
        ids, _ = self._askers[topic.key]
        if not ids:
            return
        asker = self.people[rng.choices(ids, cum_weights=self._askers_cum[topic.key])[0]]
        expert = self._pick_expert(topic, exclude=asker.idx)
        if expert is None:
            return
        medium = rng.choices(MEDIA, weights=MEDIA_WEIGHTS)[0]
        if medium == "email" and not topic.mailbox:
            medium = "chat"
        if medium == "ticket" and topic.category not in ("product", "support", "integrations"):
            medium = "chat"
        if topic.askers_from:  # the silo keeps to its private channel
            medium = "chat"
        s = text.slots(rng)
        q = text.question(rng, topic, s)
        when = self._start_time(progress, asker)
        truth = getattr(self, f"_{medium}")(batch, _Plan(topic, asker, expert, q, s, when))
        self.truth["threads"][truth["thread"]] = truth

    def _chat(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        rng = self.rng
        channel = topic.channel
        if topic.key == "discount_approval" and asker.department == "Sales" and rng.random() < 0.25:
            channel = "#deal-desk-approvals"
        spec = self.spaces[channel]
        if spec.visibility == Visibility.PRIVATE:
            spec.members |= {asker.idx, expert.idx}
        thread = self._thread(batch, spec, None, when)
        root = self._msg(batch, thread, asker, when, text.chat_question(rng, q, s), MessageKind.QUESTION)
        answerers: list[str] = []
        t = when
        if rng.random() < 0.2:
            t = self._later(t, 20)
            self._msg(batch, thread, expert, t, text.pick(rng, text.CLARIFY, **s), reply_to=root)
            t = self._later(t, 15)
            self._msg(batch, thread, asker, t, text.pick(rng, text.CLARIFY_REPLY, **s), reply_to=root)
        if rng.random() < 0.18:
            if spec.visibility == Visibility.PRIVATE:  # only members can chime in
                other = self.people[rng.choice(sorted(spec.members))]
            else:
                other = self._pick_bystander({asker.idx, expert.idx})
            t = self._later(t, 25)
            self._msg(batch, thread, other, t, text.hedge(rng, topic, s, expert.handle), reply_to=root)
        t = self._later(t)
        best = self._msg(batch, thread, expert, t, text.answer(rng, topic, s, asker.first, asker.handle), reply_to=root)
        answerers.append(expert.external_id)
        if rng.random() < 0.22:
            second = self._pick_expert(topic, exclude=expert.idx)
            if second is not None and second.idx != asker.idx:
                if spec.visibility == Visibility.PRIVATE:
                    spec.members.add(second.idx)
                t = self._later(t, 30)
                self._msg(batch, thread, second, t, "Adding to that: " + rng.choice(topic.facts), reply_to=root)
                answerers.append(second.external_id)
        solved = rng.random() < 0.72
        if solved:
            self._react(batch, best, {"white_check_mark": 1, "+1": rng.randint(0, 4)})
            t = self._later(t, 20)
            self._msg(
                batch,
                thread,
                asker,
                t,
                text.pick(rng, text.THANKS, handle=expert.handle, first=expert.first),
                reply_to=root,
            )
        return self._truth("chat", thread, topic, asker, answerers, root, best if solved else None)

    @staticmethod
    def _react(batch: Batch, msg_ext: str, reactions: dict[str, int]) -> None:
        for m in reversed(batch.messages):
            if m.external_id == msg_ext:
                m.reactions = reactions
                return

    def _dm(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        a, b = sorted((asker.idx, expert.idx))
        spec = self._space(f"dm {self.people[a].handle} {self.people[b].handle}", SpaceKind.DM, Visibility.PRIVATE)
        spec.members |= {a, b}
        self._new_space(batch, spec)
        thread = self._thread(batch, spec, None, when)
        root = self._msg(batch, thread, asker, when, f"Hi {expert.first}, {q}", MessageKind.QUESTION)
        t = self._later(when, 60)
        best = self._msg(
            batch,
            thread,
            expert,
            t,
            text.answer(self.rng, topic, s, asker.first, asker.handle),
            reply_to=root,
        )
        t = self._later(t, 30)
        self._msg(
            batch,
            thread,
            asker,
            t,
            text.pick(self.rng, text.THANKS, handle=expert.handle, first=expert.first),
            reply_to=best,
        )
        return self._truth("dm", thread, topic, asker, [expert.external_id], root, best)

    def _email(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        assert topic.mailbox is not None
        spec = self.spaces[topic.mailbox]
        spec.members |= {asker.idx, expert.idx}
        subject = f"{topic.label.capitalize()} - {s['customer']}"
        thread = self._thread(batch, spec, subject, when)
        root = self._msg(
            batch, thread, asker, when, text.email_question(self.rng, q, s, asker.first), MessageKind.QUESTION
        )
        t = self._later(when, 180)
        body = text.answer(self.rng, topic, s, asker.first, asker.handle)
        best = self._msg(
            batch,
            thread,
            expert,
            t,
            text.EMAIL_REPLY.format(first=asker.first, body=body, expert_first=expert.first),
            reply_to=root,
        )
        solved = self.rng.random() < 0.6
        if solved:
            t = self._later(t, 120)
            self._msg(
                batch,
                thread,
                asker,
                t,
                text.pick(self.rng, text.EMAIL_THANKS, first=expert.first),
                reply_to=best,
            )
        return self._truth("email", thread, topic, asker, [expert.external_id], root, best if solved else None)

    def _qa(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        rng = self.rng
        spec = self.spaces[QA_SITE]
        title = text.cap(q)
        thread = self._thread(batch, spec, title, when, meta={"tags": [topic.category]})
        root = self._msg(
            batch,
            thread,
            asker,
            when,
            text.chat_question(rng, q, s),
            MessageKind.QUESTION,
            score=rng.randint(0, 6),
        )
        accepted = rng.random() < 0.7
        t = self._later(when, 90)
        best = self._msg(
            batch,
            thread,
            expert,
            t,
            text.answer(rng, topic, s, asker.first, asker.handle, n_facts=2),
            MessageKind.ANSWER,
            reply_to=root,
            score=rng.randint(1, 9),
            accepted=accepted,
        )
        answerers = [expert.external_id]
        if rng.random() < 0.3:
            second = self._pick_expert(topic, exclude=expert.idx)
            if second is not None and second.idx != asker.idx:
                t = self._later(t, 120)
                self._msg(
                    batch,
                    thread,
                    second,
                    t,
                    rng.choice(topic.facts),
                    MessageKind.ANSWER,
                    reply_to=root,
                    score=rng.randint(0, 4),
                )
                answerers.append(second.external_id)
        if rng.random() < 0.15:
            other = self._pick_bystander({asker.idx, expert.idx})
            t = self._later(t, 120)
            self._msg(
                batch,
                thread,
                other,
                t,
                text.hedge(rng, topic, s, expert.handle),
                MessageKind.ANSWER,
                reply_to=root,
                score=rng.randint(-1, 1),
            )
        if accepted and rng.random() < 0.4:
            self._msg(
                batch,
                thread,
                asker,
                self._later(t, 60),
                "Thanks, that answers it.",
                MessageKind.COMMENT,
                reply_to=best,
            )
        return self._truth("qa", thread, topic, asker, answerers, root, best if accepted else None)

    def _ticket(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        spec = self.spaces[TICKET_QUEUE]
        spec.members |= {asker.idx, expert.idx}
        solved = self.rng.random() < 0.8
        thread = self._thread(
            batch,
            spec,
            f"{s['customer']}: {q[:70]}",
            when,
            meta={"status": "solved" if solved else "open", "customer": s["customer"]},
        )
        root = self._msg(batch, thread, asker, when, text.cap(q) + f" Customer: {s['customer']}.", MessageKind.QUESTION)
        t = self._later(when, 240)
        best = self._msg(
            batch,
            thread,
            expert,
            t,
            text.answer(self.rng, topic, s, asker.first, asker.handle),
            MessageKind.ANSWER,
            reply_to=root,
            accepted=solved,
        )
        return self._truth("ticket", thread, topic, asker, [expert.external_id], root, best if solved else None)

    def _crm(self, batch: Batch, plan: _Plan) -> dict[str, Any]:
        topic, asker, expert, q, s, when = plan
        spec = self.spaces[CRM_SPACE]
        spec.members |= {asker.idx}
        thread = self._thread(
            batch,
            spec,
            f"{s['customer']} - {s['product']} opportunity",
            when,
            meta={
                "account": s["customer"],
                "stage": self.rng.choice(("Discovery", "Evaluation", "Proposal", "Negotiation")),
            },
        )
        fact = self.rng.choice(topic.facts)
        note = f"Call notes: {s['customer']} asked {q} Checked with {expert.name} ({expert.department}): {fact}"
        root = self._msg(batch, thread, asker, when, note, MessageKind.MESSAGE)
        return self._truth("crm", thread, topic, asker, [expert.external_id], root, None)

    def _truth(
        self,
        medium: str,
        thread: str,
        topic: Topic,
        asker: DemoPerson,
        answerers: list[str],
        question: str,
        best: str | None,
    ) -> dict[str, Any]:
        return {
            "thread": thread,
            "medium": medium,
            "topic": topic.key,
            "asker": asker.external_id,
            "answerers": answerers,
            "question_message": question,
            "best_message": best,
        }
