"""Folder exports never read through a symbolic link that leaves the export (a file or a folder link, in every
folder reader); links that stay inside are read like the files they point to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_email import Q
from test_slack_chats import MESSAGES, chat_xml
from test_slack_export import export_files, write_folder
from test_stackexchange import make_dump

from whoknows.importers import reader_for
from whoknows.importers.base import ImportError_
from whoknows.importers.slack_export import SlackExportReader

SECRET = "the password is hunter2"


def outside(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)
    return folder / name


def refused(kind: str, path: Path, link: Path) -> None:
    with pytest.raises(ImportError_, match="outside the export") as info:
        reader = reader_for(kind, path)
        for _ in reader.batches():
            pass
    assert str(link) in str(info.value)
    assert info.value.code == "import.link_outside"


def test_slack_file_link_leaving_the_export_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "exp", export_files())
    users = [{"id": "U9", "team_id": "T1", "name": SECRET}]
    (root / "users.json").unlink()
    os.symlink(outside(tmp_path, "passwd.json", json.dumps(users).encode()), root / "users.json")
    refused("slack", root, root / "users.json")


def test_slack_folder_link_leaving_the_export_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "exp", export_files())
    day = [{"type": "message", "user": "U1", "ts": "1600000100.000000", "text": SECRET}]
    target = outside(tmp_path, "2020-09-20.json", json.dumps(day).encode()).parent
    os.symlink(target, root / "stolen")
    refused("slack", root, root / "stolen")


def test_links_inside_the_export_are_read(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "exp", export_files())
    (root / "meta").mkdir()
    os.replace(root / "dms.json", root / "meta" / "dms.json")
    os.symlink(Path("meta") / "dms.json", root / "dms.json")  # a relative link to a file inside
    os.symlink(root / "general", root / "general-again")  # a link to a folder inside: read where it is
    reader = SlackExportReader(root)
    messages = [m for b in reader.batches() for m in b.messages]
    assert len(messages) == 8
    assert "D1" in {s.external_id for b in SlackExportReader(root).batches() for s in b.spaces}


def test_email_folder_link_leaving_the_export_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    root.mkdir()
    (root / "1.eml").write_bytes(Q.split(b"\n", 1)[1])
    os.symlink(outside(tmp_path, "secret.eml", b"From: x@y\nSubject: " + SECRET.encode() + b"\n\nx\n"), root / "2.eml")
    refused("email", root, root / "2.eml")


def test_slack_chats_folder_link_leaving_the_export_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "chats"
    root.mkdir()
    (root / "python-help-2017.xml").write_text(chat_xml(MESSAGES))
    os.symlink(outside(tmp_path, "x.xml", chat_xml(MESSAGES, channel="secret").encode()), root / "x.xml")
    refused("slack-chats", root, root / "x.xml")


def test_stackexchange_folder_link_leaving_the_export_is_refused(tmp_path: Path) -> None:
    site = make_dump(tmp_path / "dump")
    users = (site / "Users.xml").read_bytes()
    (site / "Users.xml").unlink()
    os.symlink(outside(tmp_path, "Users.xml", users), site / "Users.xml")
    refused("stackexchange", site, site / "Users.xml")


def test_cli_names_the_link(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "exp", export_files())
    (root / "channels.json").unlink()
    os.symlink(outside(tmp_path, "c.json", b"[]"), root / "channels.json")
    run = subprocess.run(
        [sys.executable, "-m", "whoknows", "--db", str(tmp_path / "c.db"), "import", "slack", str(root), "--no-index"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert str(root / "channels.json") in run.stderr and "outside the export" in run.stderr
    assert "Traceback" not in run.stderr
