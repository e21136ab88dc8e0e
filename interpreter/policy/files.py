"""Files written atomically: a reader sees the old file or the new one, never half of one.

Every generated file (docs pages, matrices, batch outputs and error reports) goes through
here: written beside its target under a temporary name, synced to disk, then renamed onto
it. Files that make one result (a batch's outputs and its errors) are renamed together,
once all of them are complete: every target is replaced, or none is.

A temporary is named ``.TARGET.HOST-PID.RANDOM.part``: a process killed before it could
remove its temporaries leaves them behind, and the next write of the same target (on the
same host) removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

_SUFFIX = ".part"
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _prefix(target: Path, pid: int) -> str:
    return f".{target.name}.{_HOST}-{pid}."


def temporary_name(target: Path, pid: int | None = None) -> str:
    """A name for a temporary of ``target`` written by process ``pid`` (default: this one)."""
    return f"{_prefix(target, os.getpid() if pid is None else pid)}{os.urandom(4).hex()}{_SUFFIX}"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it only if the block succeeds."""
    with atomic_paths(target) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(*targets: Path) -> Iterator[list[Path]]:
    """A temporary path beside each target; when the block succeeds, each is synced and
    renamed onto its target, all or none (a rename that fails puts back the targets
    already replaced). Whatever happens, no temporary is left behind."""
    tmps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(target)
            fd, name = tempfile.mkstemp(
                prefix=_prefix(target, os.getpid()), suffix=_SUFFIX, dir=target.parent
            )
            os.close(fd)
            tmps.append(Path(name))
        yield tmps
        for tmp in tmps:
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is an ordinary file
            _sync(tmp)
        _rename_all(list(zip(tmps, targets, strict=True)))
    finally:
        for tmp in tmps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _rename_all(pairs: list[tuple[Path, Path]]) -> None:
    """Each temporary onto its target; if one rename fails, the targets renamed before it
    are put back as they were (from a hard link kept of each old file)."""
    done: list[tuple[Path, Path | None]] = []  # (target, its old file's link, if it had one)
    links: list[Path] = []
    try:
        for tmp, target in pairs:
            old = None
            if len(pairs) > 1 and os.path.lexists(target):
                old = target.with_name(temporary_name(target))
                try:
                    os.link(target, old, follow_symlinks=False)
                    links.append(old)
                except (OSError, NotImplementedError):  # no hard links: cannot be put back
                    old = None
            os.replace(tmp, target)
            done.append((target, old))
    except BaseException:
        for target, old in reversed(done):
            with contextlib.suppress(OSError):
                if old is None:
                    target.unlink()
                else:
                    os.replace(old, target)
        raise
    finally:
        for link in links:
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
    for folder in {target.parent for _tmp, target in pairs}:
        _sync_folder(folder)


def _sync(path: Path) -> None:
    """The file's data on disk before it is renamed into place."""
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """The rename itself on disk (where a folder can be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows, where folders are not opened
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(target: Path) -> None:
    """Remove the temporaries of ``target`` left by processes of this host that are gone."""
    start = f".{target.name}.{_HOST}-"
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(start) and name.endswith(_SUFFIX)):
            continue
        pid_text, dot, _rest = name[len(start) :].partition(".")
        if not dot or not pid_text.isdigit() or _running(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)


def _running(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows, os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal (it is running), or no such check here
        return True
    return True


def write_atomic(path: Path, content: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
