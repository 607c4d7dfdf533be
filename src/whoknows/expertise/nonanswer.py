"""Replies that are not answers: brush-offs, redirects, "I don't know" and pure questions (a pure function of text).

A reply is cut into clauses (sentences, then at commas, semicolons, dashes and "but"/"though"); each clause is
*substance* (says something about the matter: a statement, a suggestion, code, a link, a hedged "I think X"),
*filler* (a greeting, "sorry", "yes", an emoji, a bare @-mention) or one of the non-answer kinds:

- ``"redirect"``: points elsewhere ("ask @x", "try #channel", "I think @felix knows", "someone on the list would");
- ``"don't know"``: "no idea", "I don't know", "not sure", "never used it";
- ``"brush-off"``: "not my area", "can't help", "good luck";
- ``"question"``: only asks back ("which edition?", "me too", "same problem here, any news?").

A reply is a non-answer when it has at least one non-answer clause and no substance: "Not 100% sure but I think the
limit is 500 seats" keeps its second clause and stays an answer; "Did you try `raco setup`?" is a suggestion (a
question that proposes a fix, or carries code or a link, is substance). In doubt a clause counts as substance: a
real answer wrongly dropped costs more than a brush-off kept. The phrase lists are plain conversational English,
written before the labels in ``bench/labels/non-answers.csv`` were read (measured by ``bench/bench_non_answers.py``).
"""

from __future__ import annotations

import re

from whoknows.memory.signals import has_code, has_link, normalize

#: Category of a non-answer (see the module docstring), in the order a mixed reply is named by.
CATEGORIES = ("redirect", "don't know", "brush-off", "question")

_MENTION = r"(?:<@[^>\s]+>|@[\w.\-]+)"
_CHANNEL = r"(?:<#[^>\s]+>|#[\w\-]+)"
_ELSEWHERE = (
    rf"(?:{_MENTION}|{_CHANNEL}|someone|somebody|anyone|the (?:mailing )?list|the \w+ (?:team|channel|list)|"
    r"(?:the )?racket-users|(?:on |in )?(?:slack|discord|irc|stack ?overflow|reddit|the forum|the discourse))"
)
_KNOWS = (
    r"(?:knows?|would know|might know|may know|should know|will know|probably knows|can help|could help|"
    r"might be able to help|can answer|could answer|handled|worked on|owns|did this|dealt with|"
    r"is the (?:person|expert)|is your (?:person|best bet)|has done|wrote (?:it|that|this))"
)
_REDIRECT = re.compile(
    "|".join(
        (
            # "ask @x", "try asking on the list", "maybe check with the billing team", "ping @felix"
            rf"^(?:\S+ ){{0,3}}(?:ask|asking|ping|check with|talk to|contact|reach out to|cc|loop in|try asking)"
            rf"\b.{{0,40}}{_ELSEWHERE}",
            # "maybe try #security-questions", "try the mailing list"
            rf"^(?:\S+ ){{0,3}}(?:try|post (?:it|this|that) (?:in|on|to)|ask (?:in|on)) {_ELSEWHERE}",
            # "I think @felix knows this one", "@expert handled this for Acme", "someone else might know"
            rf"^(?:\S+ ){{0,3}}{_ELSEWHERE}(?: \w+){{0,2}} {_KNOWS}\b",
            r"\bsomeone (?:else )?(?:here |on \S+ )?(?:might|would|may|could|should|will) (?:know|help|be able)",
            r"\bhopefully someone\b",
        )
    )
)
_DONT_KNOW = re.compile(
    r"^(?:\S+ ){0,2}(?:(?:i )?(?:have |got )?(?:no|zero) (?:idea|clue)|no idea|"
    r"(?:i )?(?:really |honestly )?(?:do ?n'?t|do not|dont) (?:really )?know\b|dunno|idk|beats me|not a clue|"
    r"(?:i'?m |i am )?not (?:100% |really |entirely |quite |too |so |very )?sure|"
    r"(?:i )?(?:have )?never (?:used|tried|touched|done|worked with)|"
    r"(?:i )?(?:have|'ve) no experience|i haven'?t (?:used|tried|done|worked with)|"
    r"(?:that'?s |it'?s )?(?:a )?good question|no clue|i wish i knew|i can'?t remember|i don'?t remember|"
    r"not that i remember)|"
    # "... and I have no idea!": the phrase ends the clause
    r"\b(?:(?:have )?no (?:idea|clue)|dunno|idk|(?:do ?n'?t|do not) know|not sure)\W*$"
)
_BRUSH_OFF = re.compile(
    r"^(?:\S+ ){0,2}(?:not my (?:area|department|field|thing|expertise|wheelhouse)|outside (?:of )?my|"
    r"(?:i )?can'?t help|(?:i'?m |i am )?(?:afraid i )?(?:of )?no help|good luck|google it|not me|"
    r"(?:i )?(?:have|'ve) no time|sorry,? (?:i )?can'?t|"
    r"(?:i )?(?:haven'?t|have not|didn'?t) (?:had|have) (?:the )?time)"
)
_ME_TOO = re.compile(
    r"^(?:\S+ ){0,2}(?:me too|same here|same (?:problem|issue|question|thing|error)|\+1|"
    r"i(?:'m| am)? (?:have|having|get|getting|see|seeing|had|hit|hitting) (?:the )?(?:same|similar)|"
    r"i(?:'d| would)? (?:also )?(?:like|love) to know|i was wondering the same|i'?m curious too|"
    r"any (?:news|update|updates|luck|progress)|did you (?:ever )?(?:find|figure|solve|get)|"
    r"(?:i'?m |i am )?(?:just )?(?:curious|wondering) (?:about|if|whether|how|what|why|to)|"
    r"(?:i'?m|i am) (?:still )?(?:trying to (?:understand|figure out)|confused|stuck))"
)
#: Questions that propose something ("did you try X?", "what about X?", "isn't it X?") are suggestions.
_SUGGESTION = re.compile(
    r"^(?:\S+ ){0,2}(?:did you try|have you (?!ever found|found|figured|solved|got)\w+ed\b|have you tried|"
    r"did you (?:check|look at|see|use)|have you (?:checked|looked|seen|used)|"
    r"what about|how about|why not|(?:can|could) you just|you (?:can|could)|what if you|"
    r"could you (?:just )?(?:use|try|add|call)|can'?t you|couldn'?t you|"
    r"would .* (?:work|help|do)|does .* (?:work|help) for you|is .* what you (?:want|need|mean)|"
    r"(?:isn'?t|doesn'?t|don'?t|aren'?t|wouldn'?t|won'?t|shouldn'?t|can'?t) (?:it|that|this|you|there|the)\b|"
    r"(?:maybe|perhaps|probably|possibly|i think|i guess|i believe|i suspect|could it be|might it be))"
)
_FILLER_WORDS = frozenset(
    [
        "sorry",
        "hmm",
        "hm",
        "hmmm",
        "um",
        "umm",
        "uh",
        "oh",
        "ah",
        "ahh",
        "well",
        "lol",
        "haha",
        "heh",
        "hi",
        "hey",
        "hello",
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "nah",
        "ok",
        "okay",
        "sure",
        "so",
        "thanks",
        "thx",
        "ty",
        "cheers",
        "interesting",
        "indeed",
        "right",
        "true",
        "exactly",
        "agreed",
        "also",
        "though",
        "but",
        "and",
        "too",
        "either",
        "unfortunately",
        "alas",
        "afraid",
        "really",
        "i",
        "guess",
        "hope",
        "helps",
        "that",
        "this",
    ]
)
_FILLER = re.compile(
    r"^(?:hope (?:that|this|it) helps|sorry (?:about that|i can'?t be (?:of )?more help|for the delay)|"
    r"hope you (?:find|figure|get) \w+|let me know|happy to help|hth)\b"
)
_CLAUSES = re.compile(r"[,;:]\s+|\s+[-\u2013\u2014]+\s+|\s+(?:but|though|although|however)\s+")
_PUNCT = re.compile(r"[^\w\s'#@<>+%-]")
_INLINE_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_LEADING_MENTIONS = re.compile(rf"^(?:{_MENTION}\s*)+")
_EMOJI = re.compile(r":[\w+\-]+:")
_BARE = re.compile(rf"{_MENTION}|{_CHANNEL}")
_YES_NO = frozenset(("yes", "yeah", "yep", "yup", "no", "nope", "nah"))


def _clause_kind(clause: str, raw: str) -> str | None:
    """A clause's kind: a non-answer category, ``"filler"`` or ``None`` (substance)."""
    if has_link(raw):
        return None
    c = " ".join(_PUNCT.sub(" ", _EMOJI.sub(" ", clause)).split())
    if _REDIRECT.search(c):
        return "redirect"
    c = _LEADING_MENTIONS.sub("", c)  # the addressee of the rest: "@ann not sure why"
    if _ME_TOO.search(c):
        return "question"
    if _BRUSH_OFF.search(c):
        return "brush-off"
    if _DONT_KNOW.search(c):
        return "don't know"
    code = "`" in raw or (has_code(raw) and not re.search(_MENTION, raw))
    if clause.rstrip().endswith("?"):
        # A question with code is a suggestion when it is little more than the code ("`string-split`?").
        bare_code = code and len(_INLINE_CODE.sub(" ", raw).split()) <= 1
        return None if bare_code or _SUGGESTION.search(c) else "question"
    if code:
        return None
    words = _BARE.sub(" ", c).split()
    if not words or _FILLER.search(" ".join(words)) or all(w.strip("'-") in _FILLER_WORDS for w in words):
        return "filler"
    return None


def _clauses(text: str) -> list[tuple[str, str]]:
    """(normalised clause, raw clause) pairs: sentences and lines, then their clauses."""
    out: list[tuple[str, str]] = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text.strip()):
        for p in _CLAUSES.split(sentence):
            if p and p.strip():
                out.append((normalize(p), p))
    return out


def non_answer_kind(text: str) -> str | None:
    """The category of a non-answer reply (one of :data:`CATEGORIES`), or ``None`` when it says something."""
    clauses = _clauses(text[:2000])
    kinds = [_clause_kind(n, raw) for n, raw in clauses]
    if not kinds or any(k is None for k in kinds):
        return None
    if "question" in kinds and any(_PUNCT.sub(" ", n).strip() in _YES_NO for n, _ in clauses):
        return None  # asks and answers itself: "To Haskell? Yes. To Racket? No."
    found = {k for k in kinds if k != "filler"}
    return next((c for c in CATEGORIES if c in found), None)


def is_non_answer(text: str) -> bool:
    """Whether a reply gives no know-how: a brush-off, a redirect, an "I don't know" or a pure question."""
    return non_answer_kind(text) is not None
