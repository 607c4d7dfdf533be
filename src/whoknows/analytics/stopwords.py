"""Words too common in workplace questions to name a topic (used by the topic model and its labels)."""

from __future__ import annotations

STOPWORDS = frozenset(
    """about above after again against all also and any are aren because been before being below between both but
    can cannot could did does doing don down during each few for from further had has have having her here hers him
    his how into isn its itself just let more most much must need needs not now off once only other our ours out over
    own same she should some such than that the their theirs them then there these they this those through too under
    until very was wasn were what when where which while who whom why will with would you your yours yourself hey
    thanks thank please anyone someone know does quick question hi hello team folks guys get got like one two use
    using used want way still ask asking asked customer customers who's what's i'm we're can't it's""".split()  # noqa: SIM905
)
