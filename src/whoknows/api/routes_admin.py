"""Admin routes: rebuild derived data, erase a person, imports (upload, progress, result), API tokens."""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from whoknows.api.accounts import account_of, issue_token, revoke_token
from whoknows.api.deps import Admin, RowId, State

router = APIRouter(prefix="/admin", tags=["admin"])
UPLOAD_PATH = "/api/v1/admin/imports"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class TokenIn(BaseModel):
    account: str = Field(min_length=1, max_length=500, description="The account's person: e-mail, @handle or #id.")
    name: str = Field(min_length=1, max_length=200, description="What the token is for, e.g. 'crm-integration'.")
    role: str | None = Field(default=None, description="member, analyst or admin; default: the account's role.")
    expires_days: float | None = Field(default=90, gt=0, le=3650, description="null: never expires.")


@router.post("/reindex")
def reindex(state: State, _admin: Admin) -> dict[str, Any]:
    """Rebuild everything derived from the store (memory, search index, expertise model). Runs to completion."""
    from whoknows.derive import reindex as derive_all

    return derive_all(state.store, state.data_dir).as_dict()


class EraseIn(BaseModel):
    policy: Literal["delete", "anonymise"] = Field(
        default="delete",
        description="delete: remove the person's messages; anonymise: keep them without the person or their name.",
    )


@router.post("/expertise/rebuild")
def rebuild_expertise(state: State, _admin: Admin) -> dict[str, Any]:
    """Rebuild the expertise model (profiles and the learned ranker) from the store. Runs to completion."""
    from whoknows.derive import rebuild_expertise as rebuild

    return rebuild(state.store, state.data_dir)


@router.post("/people/{ref}/erase")
def erase(ref: str, body: EraseIn, state: State, _admin: Admin) -> dict[str, Any]:
    """Erase a person (right to erasure): account, aliases, profile, index entries, routing and analytics
    contributions; their messages are deleted or anonymised per ``policy``. Cannot be undone."""
    from whoknows.erasure import erase_person

    return erase_person(state.store, state.data_dir, ref, policy=body.policy).as_dict()


@router.post(UPLOAD_PATH.removeprefix("/api/v1/admin"), status_code=202)
def start_import(
    state: State,
    _admin: Admin,
    kind: Annotated[str, Form(max_length=50, description="slack, slack-chats, stackexchange, email, tickets, crm.")],
    file: Annotated[UploadFile, File(description="The export: a file or a zip.")],
    space_name: Annotated[str | None, Form(max_length=300)] = None,
) -> JSONResponse:
    """Upload an export; the import runs in the background. Poll ``GET /admin/imports/{id}`` for its progress."""
    name = _UNSAFE_NAME.sub("_", (file.filename or "upload").rsplit("/", 1)[-1]).strip("._") or "upload"
    folder = state.data_dir / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / name
    with path.open("wb") as out:
        shutil.copyfileobj(file.file, out, 1 << 20)
    import_id = state.imports.start(kind, path, space_name=space_name)
    return JSONResponse(
        {"import_id": import_id, "status": "running", "url": f"{UPLOAD_PATH}/{import_id}"},
        status_code=202,
        headers={"Location": f"{UPLOAD_PATH}/{import_id}"},
    )


@router.get("/imports/{import_id}")
def import_status(import_id: RowId, state: State, _admin: Admin) -> dict[str, Any]:
    """An import's status, counts and error (from the ``imports`` table) and its live progress."""
    return state.imports.status(import_id)


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, state: State, _admin: Admin) -> dict[str, Any]:
    """A new API token for an account; the token is in this response only (the server keeps its hash)."""
    ttl = timedelta(days=body.expires_days) if body.expires_days is not None else None
    issued = issue_token(state.store, account_of(state.store, body.account), kind="api", name=body.name,
                         role=body.role, ttl=ttl)  # fmt: skip
    return issued.as_dict()


@router.delete("/tokens/{token_id}")
def delete_token(token_id: RowId, state: State, _admin: Admin) -> dict[str, Any]:
    """Revoke a token (API token or session) at once."""
    return {"id": token_id, "revoked": revoke_token(state.store, token_id)}
