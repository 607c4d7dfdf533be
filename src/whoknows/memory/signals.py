"""Text and reaction cues, each a small pure function of one message.

The cue lists are plain English conversational phrases (what people write on Slack, in e-mail and on Q&A
sites), not phrases taken from any one data set; the weights that combine them are fitted, see
:mod:`whoknows.memory.weights`.
"""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[a-z0-9_']+")

_INTERROGATIVES = frozenset(
    [
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "is",
        "are",
        "am",
        "was",
        "were",
        "can",
        "could",
        "does",
        "do",
        "did",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "has",
        "have",
        "had",
        "anyone",
        "anybody",
        "someone",
        "somebody",
        "any",
    ]
)
_REQUEST_PHRASES = (
    "does anyone know",
    "does anybody know",
    "anyone know",
    "anybody know",
    "anyone have",
    "anyone got",
    "has anyone",
    "has anybody",
    "how do i",
    "how do you",
    "how do we",
    "how can i",
    "how can we",
    "how to ",
    "can we",
    "can i",
    "can you",
    "can someone",
    "could someone",
    "could you",
    "is there",
    "are there",
    "is it possible",
    "what is the best way",
    "what's the best way",
    "what's the",
    "any idea",
    "any ideas",
    "any pointers",
    "any suggestions",
    "any advice",
    "need help",
    "need some help",
    "help me",
    "i'm trying to",
    "im trying to",
    "i am trying to",
    "i was wondering",
    "wondering if",
    "wondering whether",
    "looking for",
    "do we have",
    "do we support",
    "who knows",
    "who can",
    "where can i",
    "where do i",
    "why does",
    "why is",
    "why do",
    "is anyone",
    "please advise",
    "quick question",
)
_THANKS = (
    "thanks",
    "thank you",
    "thank u",
    "thx",
    "thnx",
    "tyvm",
    "cheers",
    "appreciate",
    "much obliged",
)
_STRONG_SUCCESS = (
    "that worked",
    "that works",
    "it worked",
    "it works",
    "works now",
    "working now",
    "that did it",
    "did the trick",
    "that solved",
    "solved it",
    "that fixed",
    "fixed it",
    "that fixes",
    "perfect",
    "exactly what i needed",
    "exactly what i was looking for",
    "that answers",
)
_SUCCESS = (
    *_STRONG_SUCCESS,
    "makes sense",
    "got it",
    "great",
    "awesome",
    "excellent",
    "super helpful",
    "very helpful",
    "helpful",
    "brilliant",
    "nice,",
    "it's fixed",
)
_FAILURE = (
    "didn't work",
    "did not work",
    "doesn't work",
    "does not work",
    "not working",
    "still get",
    "still getting",
    "still doesn't",
    "same error",
    "no luck",
    "didn't help",
    "doesn't help",
    "that's not it",
    "doesn't seem to",
    "does not seem to",
    "but it doesn't",
    "not quite what",
    "not what i",
)
#: A reply that promises later action instead of answering ("I'll fix it later today", "will push a repair").
_PROMISE = re.compile(
    r"\b(?:i'll|i will|i'm going to|we'll|will) (?:add|fix|push|look into|take care|get to|do that|file|update|"
    r"repair|investigate|check on)\b"
)
_SELF_RESOLVED = (
    "figured it out",
    "figured out",
    "never mind",
    "nevermind",
    "nvm",
    "i found",
    "found it",
    "found the",
    "turns out",
    "turned out",
    "the fix was",
    "the solution was",
    "solved it by",
    "fixed it by",
    "got it working",
    "i ended up",
    "answering my own",
)
_HEDGES = (
    "no idea",
    "not sure",
    "not 100% sure",
    "i don't know",
    "i dont know",
    "don't know",
    "dunno",
    "idk",
    "no clue",
    "not my area",
    "not an expert",
    "maybe ask",
    "try asking",
    "you could ask",
    "you should ask",
    "ask @",
    "knows this one",
    "might know",
    "would know",
    "could have changed",
    "double check",
    "i think @",
    "same question",
    "same problem",
    "+1",
    "me too",
)

#: An asker's reply that takes a helper's answer on board: thanks and confirmations, plus the chat forms of
#: "noted" ("I'll have a look", "I see", "gotcha", a thumbs-up) that follow a helpful answer in chat.
_ACK_PHRASES = (
    *_THANKS,
    *_SUCCESS,
    "i'll have a look",
    "i'll take a look",
    "will have a look",
    "will take a look",
    "i'll try",
    "i will try",
    "will try that",
    "i'll give it a",
    "i'll give that a",
    "that helps",
    "that helped",
    "good to know",
    "i see",
    "that explains",
    "that make sense",
    "gotcha",
    "got ya",
    "ah ok",
    "ah okay",
    "oh ok",
    "oh okay",
    "ohh",
    "ahh",
    "aha",
    "oh right",
    "oh cool",
    "oh nice",
    "oh, right",
    ":+1:",
    ":thumbsup:",
    ":pray:",
    ":raised_hands:",
    ":ok_hand:",
    "\U0001f44d",
    "\U0001f64f",
)
_ACK_WORD = re.compile(r"(?<![\w'])(?:ty|tysm|thx|ta|nice|cool|neat|great|yay|sweet)(?![\w'])")

#: Reactions that mean "this helped / this is it".
POSITIVE_REACTIONS = frozenset(
    [
        "white_check_mark",
        "heavy_check_mark",
        "ballot_box_with_check",
        "check",
        "+1",
        "thumbsup",
        "thumbs_up",
        "tada",
        "raised_hands",
        "pray",
        "100",
        "clap",
        "ok_hand",
        "heart",
        "star",
        "star-struck",
        "muscle",
        "rocket",
        "fire",
        "bulb",
    ]
)
#: Reactions that explicitly mark a solution.
CHECK_REACTIONS = frozenset(["white_check_mark", "heavy_check_mark", "ballot_box_with_check", "check"])
NEGATIVE_REACTIONS = frozenset(["-1", "thumbsdown", "thumbs_down", "x", "no_entry", "confused"])

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_CODE = re.compile(r"```|`[^`\n]+`|^\s{4,}\S|[{};]\s*$|\w+\([^()\n]*\)|=>|->|::", re.MULTILINE)
_NUMBER = re.compile(r"\d")


def normalize(text: str) -> str:
    """Lower-case with straight quotes and single spaces: the form every phrase cue is matched against."""
    return " ".join(text.lower().replace("\u2019", "'").replace("\u2018", "'").split())


def _has_any(text: str, phrases: tuple[str, ...]) -> bool:
    return any(p in text for p in phrases)


def question_cues(text: str) -> dict[str, float]:
    """Cues that a message asks something: a question mark, an interrogative opening, a request phrase."""
    t = normalize(text)
    words = _WORD.findall(t[:400])
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text.lower()) if s.strip()]
    opens = any((w := _WORD.findall(s[:40])) and w[0] in _INTERROGATIVES for s in sentences[:6])
    return {
        "qmark": 1.0 if "?" in t else 0.0,
        "interrogative": 1.0 if opens or (words[:1] and words[0] in _INTERROGATIVES) else 0.0,
        "request": 1.0 if _has_any(t, _REQUEST_PHRASES) else 0.0,
    }


def question_strength(text: str) -> float:
    """How strongly a message reads as a question, 0..1 (a transparent rule over :func:`question_cues`)."""
    c = question_cues(text)
    if c["qmark"] and (c["interrogative"] or c["request"]):
        return 1.0
    if c["qmark"] or c["request"]:
        return 0.8
    if c["interrogative"]:
        return 0.4
    return 0.0


def is_thanks(text: str) -> bool:
    t = normalize(text)
    return _has_any(t, _THANKS) or _has_any(t, _STRONG_SUCCESS)


def is_ack(text: str) -> bool:
    """The asker acknowledges a helper: thanks, "that worked", "I'll have a look", "I see", a thumbs-up."""
    t = normalize(text)
    return _has_any(t, _ACK_PHRASES) or _ACK_WORD.search(t) is not None


def is_success(text: str) -> bool:
    """An explicit "that worked" / "perfect" style confirmation (stronger than plain thanks)."""
    return _has_any(normalize(text), _SUCCESS)


def is_failure(text: str) -> bool:
    return _has_any(normalize(text), _FAILURE)


def is_promise(text: str) -> bool:
    return _PROMISE.search(normalize(text)) is not None


def is_self_resolved(text: str) -> bool:
    return _has_any(normalize(text), _SELF_RESOLVED)


def is_hedge(text: str) -> bool:
    """A reply that does not answer: "no idea", "not sure", "ask @x", "me too"."""
    return _has_any(normalize(text), _HEDGES)


def has_link(text: str) -> bool:
    return _LINK.search(text) is not None


def has_code(text: str) -> bool:
    return _CODE.search(text) is not None


def has_number(text: str) -> bool:
    return _NUMBER.search(text) is not None


def log_length(text: str) -> float:
    """log(1 + words): length with diminishing returns."""
    return math.log1p(len(text.split()))


def positive_reactions(reactions: dict[str, int]) -> int:
    return sum(max(0, n) for name, n in reactions.items() if _reaction_name(name) in POSITIVE_REACTIONS)


def check_reactions(reactions: dict[str, int]) -> int:
    return sum(max(0, n) for name, n in reactions.items() if _reaction_name(name) in CHECK_REACTIONS)


def negative_reactions(reactions: dict[str, int]) -> int:
    return sum(max(0, n) for name, n in reactions.items() if _reaction_name(name) in NEGATIVE_REACTIONS)


def _reaction_name(name: str) -> str:
    """``:+1::skin-tone-2:`` → ``+1``."""
    return name.strip(":").split("::", 1)[0].lower()


def mentions_any(text: str, names: tuple[str, ...]) -> bool:
    """Whether ``text`` names one of ``names`` (whole words, ``@handle`` or plain)."""
    if not names:
        return False
    t = normalize(text)
    return any(len(name) >= 2 and re.search(r"(?<![\w])@?" + re.escape(name) + r"(?![\w])", t) for name in names)
