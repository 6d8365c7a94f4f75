"""Write the site into a fresh folder beside the old one and swap it in only when complete."""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from .errors import UserError

_RENAME_EXCHANGE = 2  # renameat2 flag: swap two paths in one atomic step (Linux)
MARKER = ".cnn-gallery-site"  # written into every site by pipeline.write_site, and by nothing else
MARKER_TEXT = "written by the cnn-gallery generator; replaced on rebuild\n"


def check_output(out: Path) -> None:
    """Fail before any work when the site could not be written, or writing it would destroy other files."""
    if out.exists() and not out.is_dir():
        raise UserError(f"output path {out} is a file, not a folder")
    here, target = Path.cwd().resolve(), out.resolve()
    if out.name in ("", ".", "..") or target == here or target in here.parents:
        raise UserError(f"output folder {out} holds the current folder; name a folder of its own, e.g. --out site")
    if out.is_dir() and not _ours(out):
        raise UserError(f"output folder {out} has files this generator did not write (no {MARKER}); "
                        f"it would be replaced by the site, so name a new or empty folder (or `make clean` "
                        f"if it is a site from an older version)")
    parent = out.parent if out.parent != Path("") else Path(".")
    if not parent.is_dir():
        raise UserError(f"output folder's parent {parent} does not exist")
    for folder in (parent, out):
        if folder.exists() and not _writable(folder):
            raise UserError(f"output folder {folder} is not writable")


def _ours(out: Path) -> bool:
    """Empty (or holding just the .gitkeep of a fresh clone), or a site this generator wrote."""
    entries = set(os.listdir(out))
    return entries <= {".gitkeep"} or MARKER in entries


def _writable(folder: Path) -> bool:
    # os.access says yes to root for everything; the mode bits say what the user meant.
    mode = folder.stat().st_mode
    return os.access(folder, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def recover(out: Path) -> None:
    """Finish or undo a swap a killed build left half-done, and drop abandoned staging folders."""
    old = [p for p in out.parent.glob(f".{out.name}.old-*") if p.is_dir()]
    if not out.exists() and old:
        newest = max(old, key=lambda p: p.stat().st_mtime)
        os.rename(newest, out)
        old.remove(newest)
    staged = [p for p in out.parent.glob(f".{out.name}.new-*") if not _running(p)]
    for leftover in old + staged:
        shutil.rmtree(leftover, ignore_errors=True)


def _running(staging: Path) -> bool:
    """Whether the build that owns a staging folder (named after its process id) is still running."""
    pid = staging.name.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def staging_folder(out: Path) -> Path:
    recover(out)
    staging = out.parent / f".{out.name}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def swap_in(staging: Path, out: Path) -> None:
    """Replace `out` by `staging`: one atomic exchange where the kernel allows, else two renames."""
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous site
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


# ---- what a site was written from ------------------------------------------------------------------
# The marker's second line records the key of the pages' inputs (pipeline.page_key), the page count
# and a digest of the site's files as written (names, sizes, modification times). A rebuild whose key
# matches, into a site whose files are still those, has nothing to write and leaves the site as it is.

def record(site: Path, pages_key: str, pages: int) -> None:
    """Write the marker into a complete (staged) site: the last file written, so its digest covers the rest."""
    line = json.dumps({"pages_key": pages_key, "pages": pages, "files": files_digest(site)}, sort_keys=True)
    (site / MARKER).write_text(MARKER_TEXT + line + "\n")


def written_with(out: Path) -> dict | None:
    """The record of the site at `out` ({"pages_key", "pages", "files"}) when its files are still the
    ones written with it; None when there is no site, no record (an older site) or a file was changed,
    added or removed since."""
    try:
        lines = (out / MARKER).read_text().splitlines()
        found = json.loads(lines[1])
        if not isinstance(found, dict) or not {"pages_key", "pages", "files"} <= found.keys():
            return None
    except (OSError, IndexError, ValueError):
        return None
    return found if found["files"] == files_digest(out) else None


def files_digest(site: Path) -> str:
    """Hash of every file's path, size and modification time below `site` (the marker aside)."""
    entries = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(site / rel if rel else site) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif path != MARKER:
                    st = entry.stat(follow_symlinks=False)
                    entries.append(f"{path}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]
