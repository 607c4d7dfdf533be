"""Routing errors: every one carries a stable ``routing.*`` code."""

from __future__ import annotations

from whoknows.errors import NotFoundError, WhoknowsError


class RoutingError(WhoknowsError):
    code = "routing.error"


class RoutingNotFound(NotFoundError):
    code = "routing.not_found"


class RoutingStateError(RoutingError):
    """The question or assignment is no longer in a state that allows this (already answered, expired ...)."""

    code = "routing.bad_state"
    http_status = 409


class ChannelError(RoutingError):
    """A notification channel failed (server down, timeout, rejected); the outbox retries with backoff."""

    code = "routing.channel_failed"
    http_status = 502


class SignatureError(RoutingError):
    """An inbound Slack or webhook request is not signed correctly, or is a replay."""

    code = "routing.bad_signature"
    http_status = 401
