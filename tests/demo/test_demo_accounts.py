"""Demo logins: every demo person can log in with the one saved password; roles; idempotent; file is private."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from whoknows.api.accounts import verify_login
from whoknows.api.errors import AuthInvalid
from whoknows.demo import DemoConfig, load_demo
from whoknows.demo.accounts import create_demo_accounts, read_logins
from whoknows.errors import InputError
from whoknows.settings import Settings
from whoknows.store import open_store, schema


def test_demo_accounts_login_roles_rerun(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path, db=str(tmp_path / "w.db")))
    result = load_demo(store, DemoConfig(messages=600, people=40), truth_path=tmp_path / "truth.json")
    logins = create_demo_accounts(store, tmp_path, result.truth_path)
    assert logins.accounts_created == 40
    assert stat.S_IMODE(logins.path.stat().st_mode) == 0o600
    saved = read_logins(tmp_path)
    assert saved is not None and saved["password"] == logins.password and "accounts_created" not in saved
    roles = {x.role for x in logins.logins}
    assert {"admin", "analyst", "member"} <= roles
    with store.read() as conn:
        by_role = dict(conn.execute(select(schema.accounts.c.role, func.count()).group_by("role")).all())
    assert by_role == {"admin": 1, "analyst": 1, "member": 38}
    for login in logins.logins:
        assert verify_login(store, login.email, logins.password) > 0
    with pytest.raises(AuthInvalid):
        verify_login(store, logins.logins[0].email, logins.password + "x")
    again = create_demo_accounts(store, tmp_path, result.truth_path)
    assert again.accounts_created == 0 and again.password == logins.password
    assert verify_login(store, logins.logins[-1].email, logins.password) > 0
    json.loads(logins.path.read_text())  # still a readable file


def test_demo_accounts_need_the_demo_in_this_database(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path, db=str(tmp_path / "w.db")))
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"source": "demo:99"}))
    with pytest.raises(InputError, match="no people of the demo organisation"):
        create_demo_accounts(store, tmp_path, truth)
    with pytest.raises(InputError, match="cannot read the demo ground truth"):
        create_demo_accounts(store, tmp_path, tmp_path / "missing.json")
