"""Reading the files of an export that is either a folder or a .zip, safely.

A zip is untrusted input. :class:`ExportArchive` therefore

* rejects member names that would escape the export (``../x``, ``/etc/x``, ``C:\\x``) with a warning, and in a
  folder refuses links that leave it (:mod:`.export_folder`);
* refuses the whole archive (:class:`ImportError_`, naming the member and the bound) before inflating anything
  when the *declared* sizes exceed :attr:`max_total_bytes`, or a member larger than :attr:`ratio_min_bytes`
  declares a compression ratio above :attr:`max_ratio`, or the whole archive does (many small members; a zip
  bomb) — ``zipfile`` never inflates a member past its declared size, so these checks hold;
* skips, with a warning, a member declared larger than :attr:`max_file_bytes`, without inflating it, and reads
  the others with a streaming size limit that does not trust the headers either: a member that yields more than
  :attr:`max_file_bytes` is skipped with a warning, and reading more than :attr:`max_total_bytes` in total stops
  the import;
* turns a truncated or corrupt archive (no central directory) into an :class:`ImportError_` naming the file,
  and a corrupt member (bad CRC, broken deflate stream) into a warning for that member.

Names inside the archive are relative POSIX paths from the export's root: when every file of a zip sits in
one top folder (``export/users.json``), that folder is stripped.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO

from whoknows.importers.base import ImportError_
from whoknows.importers.export_folder import export_files

GiB = 1 << 30
MiB = 1 << 20
_CHUNK = 1 << 20

WarnFn = Callable[[str, str | None, str], None]


class MemberTooLarge(Exception):
    """A member yields more bytes than the per-file cap."""


def safe_member_name(name: str) -> str | None:
    """The member's normalized relative path, or None if it is absolute or climbs out of the export."""
    if not name or "\x00" in name:
        return None
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


class ExportArchive:
    """The files of an export folder or zip, by relative path (see the module docstring)."""

    max_total_bytes: int = 8 * GiB
    max_file_bytes: int = 256 * MiB
    max_ratio: float = 100.0  # real Slack exports deflate about 8 to 15 times
    ratio_min_bytes: int = 1 * MiB

    def __init__(self, path: Path, warn: WarnFn, *, limits: dict[str, float] | None = None):
        self.path = path
        self.warn = warn
        for key, value in (limits or {}).items():
            setattr(self, key, type(getattr(self, key))(value))
        self.read_total = 0
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._sizes: dict[str, int] = {}
        if path.is_dir():
            self._scan_folder()
        else:
            self._open_zip()

    # -- opening --------------------------------------------------------------------------------------------
    def _scan_folder(self) -> None:
        for path in export_files(self.path):  # refuses links that leave the folder
            rel = path.relative_to(self.path).as_posix()
            try:
                self._sizes[rel] = path.stat().st_size
            except OSError as exc:
                self.warn(str(path), None, f"cannot read: {exc.strerror or exc}")

    def _open_zip(self) -> None:
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise ImportError_(
                f"{self.path}: not a readable zip file (truncated or corrupt?): {exc}", code="import.bad_zip"
            ) from None
        self._zip = zf
        declared = 0
        names: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            if info.filename.endswith("/"):  # a folder (ZipInfo.is_dir() raises IndexError on an empty name)
                continue
            safe = safe_member_name(info.filename)
            if safe is None:
                self.warn(str(self.path), f"member {info.filename!r}", "path escapes the export folder; ignored")
                continue
            declared += info.file_size
            if info.file_size > self.ratio_min_bytes and info.file_size > self.max_ratio * max(info.compress_size, 1):
                zf.close()
                raise ImportError_(
                    f"{self.path}: member {info.filename!r} expands {info.file_size:,} bytes from "
                    f"{info.compress_size:,} (ratio above {self.max_ratio:g}); refusing a possible zip bomb",
                    code="import.zip_bomb",
                )
            names[safe] = info
        if declared > self.max_total_bytes:
            zf.close()
            raise ImportError_(
                f"{self.path}: the archive expands to {declared:,} bytes, more than the limit of "
                f"{self.max_total_bytes:,}; refusing a possible zip bomb",
                code="import.zip_bomb",
            )
        packed = self.path.stat().st_size
        if declared > self.ratio_min_bytes and declared > self.max_ratio * max(packed, 1):
            zf.close()
            raise ImportError_(
                f"{self.path}: the archive expands {declared:,} bytes from {packed:,} (ratio above "
                f"{self.max_ratio:g}); refusing a possible zip bomb",
                code="import.zip_bomb",
            )
        # Strip one common top folder ("export/users.json" -> "users.json").
        tops = {n.split("/", 1)[0] for n in names if "/" in n}
        if len(tops) == 1 and all("/" in n for n in names):
            prefix = next(iter(tops)) + "/"
            names = {n[len(prefix) :]: i for n, i in names.items()}
        self._members = names
        self._sizes = {n: i.file_size for n, i in names.items()}

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    # -- access ---------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._sizes)

    def size(self, name: str) -> int:
        return self._sizes.get(name, 0)

    def __contains__(self, name: str) -> bool:
        return name in self._sizes

    def display(self, name: str) -> str:
        """How to name the file in a message: the real path for a folder, ``archive.zip:member`` for a zip."""
        if self._zip is None:
            return str(self.path / name)
        return f"{self.path.name}:{self._members[name].filename if name in self._members else name}"

    def read(self, name: str) -> bytes | None:
        """The member's bytes, or None (with a warning) if it is corrupt, unreadable or too large."""
        if self.size(name) > self.max_file_bytes:  # declared (zip) or on disk (folder): not even inflated
            self.warn(self.display(name), None, f"larger than {self.max_file_bytes:,} bytes; skipped")
            return None
        try:
            return self._read_limited(name)
        except MemberTooLarge:
            self.warn(self.display(name), None, f"larger than {self.max_file_bytes:,} bytes; skipped")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # ValueError: e.g. a local header whose name is flagged UTF-8 but is not (UnicodeDecodeError)
            self.warn(self.display(name), None, f"corrupt member, skipped: {exc}")
        except OSError as exc:
            self.warn(self.display(name), None, f"cannot read, skipped: {exc.strerror or exc}")
        return None

    def _read_limited(self, name: str) -> bytes:
        opened: IO[bytes] = (
            open(self.path / name, "rb")  # noqa: SIM115 - closed by the with below
            if self._zip is None
            else self._zip.open(self._members[name])
        )
        parts: list[bytes] = []
        got = 0
        with opened as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                if got > self.max_file_bytes:
                    raise MemberTooLarge(name)
                self.read_total += len(chunk)
                if self.read_total > self.max_total_bytes:
                    raise ImportError_(
                        f"{self.path}: more than {self.max_total_bytes:,} bytes read from the export; "
                        f"stopping (possible zip bomb or an export larger than the configured limit)",
                        code="import.zip_bomb",
                    )
                parts.append(chunk)
        return b"".join(parts)
