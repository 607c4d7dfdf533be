"""Generate a large, realistic synthetic Slack workspace export (an extracted folder).

    python bench/gen_slack_export.py OUT_DIR --messages 1000000 [--seed 7]

Writes users.json (with a team id, e-mails, display names, a bot), channels.json (public, with members),
groups.json (private), dms.json and mpims.json, and one folder of daily ``YYYY-MM-DD.json`` files per
conversation. Messages form threads (about a third of thread starters get 1–8 replies), carry mentions,
links, reactions, edits and file shares, and channels get ``channel_join`` events. The same seed gives the
same export. ``generate`` returns the counts it wrote (``messages`` counts conversation messages, not joins).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TEAM = "TBENCH0001"
_WORDS = (
    "deploy build invoice pricing contract renewal discount vpn laptop onboarding api token quota "
    "dashboard report forecast pipeline lead demo trial migration backup database latency outage "
    "customer partner legal security audit expense travel payroll release roadmap"
)
WORDS = _WORDS.split()
QUESTIONS = ("How do I {} the {}?", "Does anyone know who owns the {} {}?", "Where can I find the {} for {}?",
             "Why is the {} {} failing?", "Can someone help with {} {}?")  # fmt: skip
STATEMENTS = ("The {} is done for {}.", "FYI: {} {} moved to next week.", "Shipped the {} {} update.",
              "Reminder: {} review about {} tomorrow.")  # fmt: skip
REPLIES = ("Try restarting the {} and check {}.", "Ask <@{}> about that.", "Fixed it, thanks!",
           "See <https://wiki.example.com/{}|the {} page>.", "It is in the {} folder under {}.")  # fmt: skip
START = datetime(2021, 1, 4, tzinfo=UTC).timestamp()


def _text(rng: random.Random, templates: tuple[str, ...], users: list[str]) -> str:
    template = rng.choice(templates)
    if "<@{}>" in template:
        return template.format(rng.choice(users))
    return template.format(rng.choice(WORDS), rng.choice(WORDS))


def generate(out: Path, messages: int, *, seed: int = 7, users: int | None = None) -> dict[str, int]:
    """Write the export to ``out`` (created) and return what it holds."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_users = users or max(20, min(5_000, messages // 200))
    uids = [f"U{i:08d}" for i in range(n_users)]
    user_rows: list[dict[str, Any]] = [
        {"id": uid, "team_id": TEAM, "name": f"user{i}", "real_name": f"User {i}", "tz": "Europe/Berlin",
         "deleted": i % 97 == 5, "is_bot": False,
         "profile": {"email": f"user{i}@example.com", "display_name": f"u{i}", "real_name": f"User {i}",
                     "title": rng.choice(["Engineer", "Account Executive", "Support", "Manager"])}}
        for i, uid in enumerate(uids)
    ]  # fmt: skip
    user_rows.append({"id": "UBOT0001", "team_id": TEAM, "name": "deploybot", "is_bot": True,
                      "profile": {"real_name": "Deploy Bot"}})  # fmt: skip
    n_channels = max(3, min(2_000, messages // 5_000))
    convs: list[tuple[str, str, list[str]]] = []  # (id, folder, members)
    channels, groups, dms, mpims = [], [], [], []
    for i in range(n_channels):
        members = rng.sample(uids, min(len(uids), rng.randint(3, 40)))
        cid, name = f"C{i:08d}", f"channel-{i}"
        row = {"id": cid, "name": name, "created": int(START) - 86_400 + i, "members": members,
               "purpose": {"value": f"Talk about {rng.choice(WORDS)}"}, "topic": {"value": ""}}  # fmt: skip
        if i % 5 == 4:
            row["id"] = cid = f"G{i:08d}"
            groups.append(row)
        else:
            channels.append(row)
        convs.append((cid, name, members))
    for i in range(max(1, n_channels // 4)):
        pair = rng.sample(uids, 2)
        dms.append({"id": f"D{i:08d}", "created": int(START), "members": pair})
        convs.append((f"D{i:08d}", f"D{i:08d}", pair))
        trio = rng.sample(uids, min(3, len(uids)))
        name = "mpdm-" + "--".join(f"user{int(u[1:])}" for u in trio) + f"-{i}"
        mpims.append({"id": f"M{i:08d}", "name": name, "created": int(START), "members": trio})
        convs.append((f"M{i:08d}", name, trio))
    for fname, rows in (("users.json", user_rows), ("channels.json", channels), ("groups.json", groups),
                        ("dms.json", dms), ("mpims.json", mpims)):  # fmt: skip
        (out / fname).write_text(json.dumps(rows, indent=1))

    per_day = 400
    days: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    written = joins = 0
    clock = START
    while written < messages:
        cid, folder, members = rng.choice(convs)
        clock += rng.uniform(0.5, 86_400 / per_day * 2)
        ts = f"{clock:.6f}"
        author = rng.choice(members)
        asks = rng.random() < 0.35
        msg: dict[str, Any] = {"type": "message", "user": author, "ts": ts, "client_msg_id": f"m{written}",
                               "text": _text(rng, QUESTIONS if asks else STATEMENTS, uids)}  # fmt: skip
        if rng.random() < 0.01:
            msg = {"type": "message", "subtype": "bot_message", "bot_id": "B0001", "username": "deploybot",
                   "ts": ts, "text": f"Deployed {rng.choice(WORDS)} to production"}  # fmt: skip
        thread = [msg]
        n_replies = rng.randint(1, 8) if rng.random() < 0.33 else 0
        t = clock
        for _ in range(min(n_replies, messages - written - 1)):
            t += rng.uniform(10, 3_600)
            thread.append({"type": "message", "user": rng.choice(members), "ts": f"{t:.6f}", "thread_ts": ts,
                           "parent_user_id": author, "text": _text(rng, REPLIES, uids)})  # fmt: skip
        if len(thread) > 1:
            msg.update(thread_ts=ts, reply_count=len(thread) - 1)
        for m in thread:
            r = rng.random()
            if r < 0.15:
                m["reactions"] = [{"name": rng.choice(["+1", "tada", "eyes", "white_check_mark"]),
                                   "users": [author], "count": rng.randint(1, 5)}]  # fmt: skip
            elif r < 0.2:
                m["edited"] = {"user": m.get("user", author), "ts": f"{float(m['ts']) + 60:.6f}"}
            elif r < 0.23:
                m["files"] = [{"id": "F1", "name": "report.pdf", "title": f"{rng.choice(WORDS)} report"}]
            day = datetime.fromtimestamp(float(m["ts"]), UTC).strftime("%Y-%m-%d")
            days[(folder, day)].append(m)
        written += len(thread)
        if rng.random() < 0.002:
            day = datetime.fromtimestamp(clock, UTC).strftime("%Y-%m-%d")
            days[(folder, day)].append({"type": "message", "subtype": "channel_join", "user": author,
                                        "ts": f"{clock + 0.1:.6f}", "text": f"<@{author}> has joined"})  # fmt: skip
            joins += 1
    for (folder, day), rows in days.items():
        rows.sort(key=lambda m: float(m["ts"]))
        (out / folder).mkdir(exist_ok=True)
        (out / folder / f"{day}.json").write_text(json.dumps(rows, indent=1))
    return {"messages": written, "joins": joins, "users": len(user_rows), "conversations": len(convs),
            "files": len(days)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the export into")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stats = generate(args.out, args.messages, seed=args.seed)
    print(json.dumps({**stats, "seconds": round(time.perf_counter() - started, 1), "out": str(args.out)}))


if __name__ == "__main__":
    main()
