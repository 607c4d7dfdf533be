"""Helpers of the API tests: the one error shape."""

from __future__ import annotations

from typing import Any

import httpx


def error_of(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The error object of ``response`` after checking its status and the one error shape (and code, if given)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert set(err) == {"code", "message", "details"}, err
    assert isinstance(err["code"], str) and err["message"] and isinstance(err["details"], dict)
    if code is not None:
        assert err["code"] == code, err
    return err
