"""Routing: when memory is not enough, ask the right colleagues without burying the few generous ones.

* :mod:`.flow` — :func:`ask_or_route` (memory first, then route);
* :mod:`.policy` — who is asked: opt-outs, out-of-office, working hours, budget, load spreading (pure);
* :mod:`.assign` — assignments and queued notifications; :mod:`.outbox` — durable, idempotent notifications;
* :mod:`.actions` — answer, decline, forward, accept; :mod:`.capture` — answers into memory;
  :mod:`.learning` — outcomes into the expertise model;
* :mod:`.worker` — expiry, escalation, digests, sending, learning; :mod:`.channels` — e-mail, Slack, webhooks.
"""

from whoknows.routing.actions import accept, answer, decline, forward, inbox, my_questions, unshare
from whoknows.routing.flow import RouteResult, ask_or_route
from whoknows.routing.prefs import Prefs, get_prefs, set_prefs
from whoknows.routing.worker import RoundStats, run_forever, run_once

__all__ = [
    "Prefs",
    "RoundStats",
    "RouteResult",
    "accept",
    "answer",
    "ask_or_route",
    "decline",
    "forward",
    "get_prefs",
    "inbox",
    "my_questions",
    "run_forever",
    "run_once",
    "set_prefs",
    "unshare",
]
