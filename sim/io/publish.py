"""Putting an output in place: one rule for every file and folder roundtrip writes.

Every writer (run folders and their charts/, a sensitivity folder, a report, a sweep's or
Monte Carlo's results and series files, their charts folder) goes through these steps:

1. **Checked before anything runs**: the name fits (``MAX_NAME`` bytes, room left for the
   temporary names beside it), the place can be written, and the disk has room
   (``check_room``: ``MIN_FREE``, or the writer's own estimate if larger).
2. **Claimed** (``claim``): ``.NAME.lock`` beside the target, locked with ``flock`` from the
   check to the publish and holding its owner (pid, process start time, boot id, host). A
   second roundtrip writing the same target finds it locked and is refused (exit 2) at once.
   The kernel drops the lock when its owner dies, however it dies: a lock file that no process
   holds is the leftover of a killed run, and the next writer takes it over.
3. **Written under a temporary name** beside the target that carries the same owner
   (``.NAME.<pid>-<start>-<boot>.<random>.tmp``, ``.partial``, ``.old``). A writer holding the
   claim removes the target's leftovers (``clean_leftovers``): those of a process gone (of
   this machine, by pid and start time; or of an earlier boot); one whose process still runs
   on this machine refuses the target and is left alone. Leftovers of other targets in the
   folder go when their process is gone for certain, and lock files when no process holds them.
4. **Published without replacing silently**: a new file appears with ``os.link`` and a new
   folder with ``renameat2(RENAME_NOREPLACE)``; both fail if anything took the name meanwhile
   (``TakenMeanwhile``, exit 2). Where ``renameat2`` is missing (not Linux, or a file system
   without it) a folder is renamed, which can replace only an empty folder made meanwhile;
   where hard links are missing (FAT, some shares) a file is renamed the same way. An output
   already there is replaced only under the claim, after the caller found it its own.

Locks are ``flock`` locks: on a network file system whose locks are not shared between
machines, two machines writing the same output at once are not kept apart (a new output still
never lands on another, by step 4).

What counts as roundtrip's own is the caller's rule: a folder's ``.roundtrip-run`` marker
(``sim.io.output``), a Parquet file's metadata (``sim.runs.farm``), a report's mark
(``sim.views.report``).
A write that fails for want of space removes what it wrote and raises ``ScenarioError`` ("no
space left on ..."), as a bad path does: exit 2.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.errors import ScenarioError
from sim.io import signals

MAX_NAME = 200  # bytes of an output's name: NAME_MAX (255) less room for ".NAME.<owner>.tmp"
MIN_FREE = 16 * 2**20  # bytes free needed before writing anything (a report is a few MB)
_SPACE = (errno.ENOSPC, errno.EDQUOT)


class TakenMeanwhile(ScenarioError):
    """Another writer put something at the target between the check and the publish."""


def owner() -> str:
    """This process as a leftover's name carries it: ``<pid>-<start>-<boot>``; the start time
    (clock ticks after boot) and the boot id tell a reused pid from its first owner."""
    return f"{os.getpid()}-{_start_time(os.getpid())}-{_boot_id()[:8]}"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")
    except OSError:  # not Linux
        return "0" * 8


def _start_time(pid: int) -> int:
    """When process ``pid`` started, in clock ticks after boot (field 22 of /proc/PID/stat);
    0 where /proc has none (not Linux), -1 if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return -1
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(token: str) -> bool:
    """Whether the owner a leftover names (``owner()``) may still run: a process with its pid
    and start time exists on this boot of this machine. An owner of another boot or machine
    counts as alive (it cannot be told from here): only its claim's lock says it is gone."""
    try:
        pid_text, start_text, boot = token.split("-")
        pid, start = int(pid_text), int(start_text)
    except ValueError:
        return True
    if boot != _boot_id()[:8]:
        return True  # another boot or another machine: only its claim's lock can tell
    now = _start_time(pid)
    return now == start or (now == 0 and _pid_exists(pid))


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temporary_name(target: Path, suffix: str) -> Path:
    """A fresh name beside ``target`` for writing it: ``.NAME.<owner>.<random><suffix>``."""
    return target.with_name(f".{target.name}.{owner()}.{secrets.token_hex(4)}{suffix}")


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _leftovers(folder: Path) -> list[tuple[Path, str, str]]:
    """Temporary names in ``folder`` (``.NAME.<owner>.<random>.<kind>``): each with the name
    of its target and the owner it names."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            parts = entry.name[1:].rsplit(".", 3) if entry.name.startswith(".") else []
            if len(parts) != 4 or parts[3] not in ("tmp", "partial", "old") or not parts[0]:
                continue
            if _is_owner(parts[1]):
                found.append((Path(entry.path), parts[0], parts[1]))
    return found


def _is_owner(token: str) -> bool:
    parts = token.split("-")
    return len(parts) == 3 and parts[0].isdigit() and parts[1].lstrip("-").isdigit()


def _same_boot(token: str) -> bool:
    return token.split("-")[2] == _boot_id()[:8]


def _gone(token: str) -> bool:
    """Whether the owner a name carries is gone for certain: it ran on this boot of this
    machine, and no process with its pid and start time is left."""
    return _same_boot(token) and not alive(token)


def clean_leftovers(target: Path) -> list[Path]:
    """Remove leftovers of killed writers beside ``target`` (call it holding ``target``'s
    claim): the temporary names of ``target`` but this process's own (a live writer of
    ``target`` holds the claim, so their owner is gone: of another boot, or killed); of other
    targets in the folder, the temporary names whose owner is gone for certain (``_gone``),
    and the lock files no process holds. Returns those removed. A temporary name of
    ``target`` whose owner runs on this machine (which cannot hold the claim, but might write
    there still, as a roundtrip older than claims would) refuses the target
    (``ScenarioError``), left alone."""
    removed = []
    me = owner()
    found = _leftovers(target.parent)
    for path, name, token in found:
        if name == target.name and token != me and alive(token) and _same_boot(token):
            raise ScenarioError(
                f"a roundtrip process still running (pid {token.split('-')[0]}) has a "
                f"temporary file here, {path.name}; wait for it to end, or choose another path",
                file=str(target),
            )
    for path, name, token in found:
        if token == me or (name != target.name and not _gone(token)):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            lock = Path(entry.path)
            if not entry.name.startswith(".") or not entry.name.endswith(".lock"):
                continue
            if lock != lock_path(target) and _drop_lock(lock):
                removed.append(lock)
    return removed


def _drop_lock(lock: Path) -> bool:
    """Remove a lock file of ours (its content says so) that no process holds, locking it
    first, so that a writer taking it meanwhile finds it gone and makes a new one."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if os.fstat(fd).st_size > 4096:
            return False
        try:
            about = json.loads(os.read(fd, 4096))
        except ValueError:
            return False
        if not isinstance(about, dict) or not _is_owner(str(about.get("owner", ""))):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # held: its owner writes now
        if not os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False)):
            return False
        lock.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ---- the claim ---------------------------------------------------------------------------------
# (thread, lock file) -> depth: a thread may claim what it holds again (a command claims its
# output before the run, the writer after it); another thread of the process is refused
_HELD: dict[tuple[int, str], int] = {}


def check_name(target: Path) -> None:
    """Refuse a name too long to write beside (``MAX_NAME`` bytes), before anything runs."""
    size = len(os.fsencode(target.name))
    if size > MAX_NAME:
        raise ScenarioError(
            f"the name {target.name[:20]}... is {size} bytes long; roundtrip writes names of up "
            f"to {MAX_NAME} bytes (it needs room beside them for its temporary names)",
            file=str(target),
        )


def check_file_target(
    path: str | os.PathLike[str],
    *,
    noun: str,
    example: str,
    is_ours: Callable[[Path], bool],
    force: bool = False,
    option: str = "--out",
) -> None:
    """Refuse (``ScenarioError``), before anything is written, a path a single output file
    (a ``noun``, such as "report") cannot be written to or must not replace: a folder, a
    symbolic link, anything but a plain file, a folder above it that does not exist or cannot
    be written, a name too long, a disk without room, and, unless ``force``, a file that
    ``is_ours`` does not recognise as roundtrip's own."""
    p = Path(path)
    check_name(p)
    if p.is_symlink():  # replacing it would replace the link; writing through it is not ours
        raise ScenarioError(
            f"this is a symbolic link; name the {noun} file itself, such as {example}",
            file=str(p),
        )
    if p.is_dir():
        raise ScenarioError(
            f"this is a folder; name the {noun} file, such as {example}", file=str(p)
        )
    if os.path.lexists(p) and not p.is_file():
        raise ScenarioError(
            f"this exists and is not a file (a device, a pipe or a socket); name a {noun} file, "
            f"such as {example}",
            file=str(p),
        )
    if not p.parent.is_dir():
        raise ScenarioError(f"the folder {str(p.parent)!r} does not exist", file=str(p))
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"the folder {str(p.parent)!r} is not writable", file=str(p))
    check_room(p)
    if p.exists() and not force and not is_ours(p):
        raise ScenarioError(
            f"this file is not a {noun} roundtrip wrote, and roundtrip replaces only its own; "
            f"add --force to replace it, or choose another file with {option}",
            file=str(p),
        )


def write_file(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    check: Callable[[], None],
    hint: str,
    suffix: str = ".tmp",
) -> Path:
    """Put ``data`` at ``path`` whole, by the rule above, for every single-file output (a
    report, a page, a schema, a starter scenario): under its claim, ``check`` again (another
    program may have written there since the caller checked), written to a temporary name
    beside it, then linked into place where nothing is, or moved over what ``check`` let be
    replaced. A stop signal before the publish leaves nothing; a user's error of the file system
    (no room, no right) is a ``ScenarioError`` naming ``path``."""
    target = Path(path)
    with claim(target, hint=hint) as held:
        check()
        tmp = temporary_name(held, suffix)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # as umask says
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            signals.raise_deferred()  # a stop whose exception was lost: nothing goes in place
            with signals.held():  # in place, and said to be, as one step
                publish_file(tmp, held, replace=os.path.lexists(held))
                signals.published()
        except BaseException as e:
            tmp.unlink(missing_ok=True)
            if isinstance(e, OSError) and is_user_error(e):
                raise os_error(e, target, hint) from None
            raise
    return target


@contextlib.contextmanager
def claim(target: str | os.PathLike[str], *, hint: str = "choose another path") -> Iterator[Path]:
    """Hold ``target`` (its absolute path) against every other roundtrip writing it until the
    block ends; refused (``ScenarioError``) if another live process holds it. Missing folders
    above it are made, and removed again at the end if still empty. Leftovers of the target's
    earlier writers that are gone are removed."""
    given = Path(target)  # as the user wrote it, for messages
    target = Path(os.path.abspath(target))
    check_name(given)
    lock = lock_path(target)
    key = (threading.get_ident(), str(lock))
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield target
        finally:
            _HELD[key] -= 1
        return
    made = _missing_parents(target)
    fd = -1
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with signals.held():  # a lock file made is a lock file known, to be removed
                fd = _lock(lock)
        except OSError as e:
            raise os_error(e, given, hint) from None
        if fd < 0:
            raise ScenarioError(
                f"another roundtrip{_owner_of(lock)} is writing this now; wait for it to "
                f"finish, or {hint}",
                file=str(given),
            )
        _HELD[key] = 1
        clean_leftovers(target)
        yield target
    finally:
        _HELD.pop(key, None)
        if fd >= 0:
            with contextlib.suppress(OSError):
                lock.unlink()
            os.close(fd)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _lock(lock: Path) -> int:
    """The locked descriptor of ``lock``, or -1 if another process holds it. The file is the
    one at that name once locked (a lock file removed and made again meanwhile is tried anew)."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return -1
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            about = {"pid": os.getpid(), "owner": owner(), "host": socket.gethostname()}
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(about) + "\n").encode())
            return fd
        os.close(fd)


def _owner_of(lock: Path) -> str:
    try:
        about = json.loads(lock.read_text())
        return f" (pid {int(about['pid'])} on {about['host']})"
    except (OSError, ValueError, KeyError, TypeError):  # being written: said in a moment
        return ""


def _missing_parents(out: Path) -> list[Path]:
    """The folders above ``out`` that do not exist yet, outermost first."""
    missing = []
    parent = out.parent
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    return missing[::-1]


# ---- checks before the runs --------------------------------------------------------------------
def check_room(target: str | os.PathLike[str], needed: int = 0) -> None:
    """Refuse a place without ``max(needed, MIN_FREE)`` bytes free on its disk."""
    needed = max(needed, MIN_FREE)
    base = os.path.abspath(target)
    while not os.path.isdir(base):
        base = os.path.dirname(base)
    try:
        free = shutil.disk_usage(base).free
    except OSError:
        return
    if free < needed:
        raise ScenarioError(
            f"no space left on the disk of {base}: {_size(free)} free, and this needs about "
            f"{_size(needed)}; free some space, or write elsewhere",
            file=str(target),
        )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def os_error(e: OSError, target: Path, hint: str) -> ScenarioError:
    """A write that the system refused, as the user's mistake in one line: no space, no
    permission, a read-only disk, a name too long, a file where a folder must be."""
    if e.errno in _SPACE:
        return ScenarioError(
            f"no space left on the disk while writing it; nothing was kept; free some space, "
            f"or {hint}",
            file=str(target),
        )
    reasons = {
        errno.EACCES: "permission denied",
        errno.EPERM: "not permitted",
        errno.EROFS: "the disk is read-only",
        errno.ENAMETOOLONG: "a name on the way is too long",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ELOOP: "a symbolic link is in the way (where roundtrip puts its lock or "
        "temporary file), or links loop",
        errno.EISDIR: "a folder is in the way (where roundtrip puts its lock or temporary file)",
    }
    reason = reasons.get(e.errno or 0)
    if reason is None:
        return ScenarioError(f"cannot be written: {e.strerror or e}; {hint}", file=str(target))
    where = ""
    if e.filename and e.errno != errno.ENAMETOOLONG:
        name = Path(os.fsdecode(e.filename))
        ours = name.name.startswith(f".{target.name}.")  # its lock, a temporary file
        refused = e.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        where = f" in {name.parent}" if ours and refused else f" at {name}"
    return ScenarioError(f"cannot write{where}: {reason}; {hint}", file=str(target))


def is_user_error(e: BaseException) -> bool:
    """An OSError ``os_error`` turns into a plain refusal (no space, no permission...)."""
    return isinstance(e, OSError) and e.errno in (
        *_SPACE,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENAMETOOLONG,
    )


# ---- publishing --------------------------------------------------------------------------------
def publish_file(tmp: Path, target: Path, *, replace: bool) -> None:
    """Put the file ``tmp`` at ``target``: with ``replace`` over what is there (the caller
    holds the claim and found it its own), else only if nothing is (``TakenMeanwhile``)."""
    if replace and os.path.lexists(target):
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target, follow_symlinks=False)
    except FileExistsError:
        raise _taken(target) from None
    except OSError as e:  # a file system without hard links (FAT, some network shares)
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
            raise
        try:
            _rename_noreplace(tmp, target)
        except FileExistsError:
            raise _taken(target) from None
        return
    os.unlink(tmp)


def publish_folder(tmp: Path, target: Path) -> None:
    """Put the folder ``tmp`` at ``target``, where nothing is (``TakenMeanwhile`` otherwise)."""
    try:
        _rename_noreplace(tmp, target)
    except FileExistsError:
        raise _taken(target) from None
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            raise _taken(target) from None
        raise


def _taken(target: Path) -> TakenMeanwhile:
    return TakenMeanwhile(
        "another roundtrip (or another program) wrote this meanwhile, and it was left as it "
        "is; nothing of this run was kept; look at what is there, or choose another path",
        file=str(target),
    )


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_renameat2: object = None  # the C function once looked up, False where there is none


def _rename_noreplace(src: Path, dst: Path) -> None:
    """``renameat2(src, dst, RENAME_NOREPLACE)``: FileExistsError if ``dst`` exists. Without it
    (not Linux, an old C library, a file system that refuses the flag) a plain rename, which
    fails onto a file or a folder holding anything but replaces an empty folder."""
    global _renameat2
    if _renameat2 is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = libc.renameat2
            _renameat2.argtypes = [
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_uint,
            ]
        except (OSError, AttributeError):
            _renameat2 = False
    if _renameat2:
        done = _renameat2(  # type: ignore[operator]
            _AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE
        )
        if done == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), str(dst))
    if os.path.lexists(dst) and not (os.path.isdir(dst) and os.path.isdir(src)):
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)
