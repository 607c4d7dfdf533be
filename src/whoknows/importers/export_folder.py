"""Listing the files of an export folder without leaving it.

A folder export is untrusted input like a zip: a symbolic link in it can point anywhere on the machine
(``users.json -> /etc/passwd``, ``general -> /home/ann``). :func:`export_files` walks the folder without following
links to folders and refuses the whole export (:class:`ImportError_` ``import.link_outside``, naming the link and
where it points) when any link, to a file or a folder, dangling or not, resolves outside the export's root, before
anything is read. Links that stay inside the export are allowed: a link to a file is read like the file (it is part
of the export); a link to a folder is not descended into, because its target, inside the export, is read where it
is (once, with no risk of a loop).
"""

from __future__ import annotations

import os
from pathlib import Path

from whoknows.importers.base import ImportError_


def export_files(root: Path) -> list[Path]:
    """The files under ``root`` (and links to files inside it), sorted; raises for a link that leaves ``root``."""
    base = _resolved(root, root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        for name in list(dirnames):
            if (here / name).is_symlink():
                check_inside(base, here / name)
                dirnames.remove(name)  # its target is inside the export and read there
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink():
                check_inside(base, path)
            if path.is_file():
                found.append(path)
    return found


def check_inside(base: Path, path: Path) -> None:
    """Raise :class:`ImportError_` if ``path`` resolves outside ``base`` (an already resolved export root)."""
    target = _resolved(path, path)
    if target != base and base not in target.parents:
        raise ImportError_(
            f"{path}: a link to {target}, outside the export {base}; refusing to read it "
            "(remove the link or copy the file into the export)",
            code="import.link_outside",
        )


def _resolved(path: Path, named: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise ImportError_(f"{named}: cannot resolve the link ({exc})", code="import.link_outside") from None
