"""API errors and the one JSON error shape: ``{"error": {"code": ..., "message": ..., "details": {...}}}``.

Core errors (:class:`~whoknows.errors.WhoknowsError`) carry their code and HTTP status; this module adds the
errors only an HTTP adapter can have (authentication, CSRF, body limits) and installs handlers so that every
4xx/5xx response — request validation, unknown routes, wrong methods, crashes — has the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from whoknows.errors import WhoknowsError

log = logging.getLogger("whoknows.api")


class ApiError(WhoknowsError):
    code = "api.error"


class AuthRequired(ApiError):
    code = "auth.required"
    http_status = 401


class AuthInvalid(ApiError):
    """Wrong e-mail or password, or an unknown, expired or revoked token."""

    code = "auth.invalid"
    http_status = 401


class Forbidden(ApiError):
    code = "auth.forbidden"
    http_status = 403


class CsrfFailed(ApiError):
    code = "auth.csrf"
    http_status = 403


class PayloadTooLarge(ApiError):
    code = "request.too_large"
    http_status = 413


class UnsupportedMediaType(ApiError):
    code = "request.unsupported_media_type"
    http_status = 415


_HTTP_CODES = {
    400: "request.bad",
    401: "auth.required",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    406: "http.not_acceptable",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "http.too_many_requests",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """The one error shape, documented on every operation for every 4xx status."""

    error: ErrorDetail


#: ``responses`` of the API router: whatever 4xx an operation answers, its body is :class:`ErrorBody`.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": 'Error: `{"error": {"code", "message", "details"}}`'}
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": jsonable_encoder(details or {})}}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="whoknows"', **(headers or {})}
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def _whoknows_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WhoknowsError)
    headers = None
    if exc.http_status in (429, 503) and isinstance(exc.details, dict) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return error_response(exc.http_status, exc.code, exc.message, exc.details, headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http.error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return error_response(422, "request.invalid_json", "the request body is not valid JSON", {"errors": errors})
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return error_response(422, "request.invalid", f"invalid request: {where}", {"errors": errors})


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "internal server error (logged on the server)")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WhoknowsError, _whoknows_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _crash)
