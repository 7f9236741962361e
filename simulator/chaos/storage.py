"""Storage faults for real, no product hook: a small tmpfs to fill (SQLITE_FULL) and
``chattr +i`` on the database files (writes fail with EPERM while the file is immutable).

Both need root; ``probe_*`` says whether this machine allows them (CI is root on Debian).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from pathlib import Path

FILLER = ".chaos-filler"


def _run(*argv: str) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def mount_tmpfs(path: Path, size_mb: int) -> bool:
    """A fresh tmpfs of ``size_mb`` at ``path``; False where mounting is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    return _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(path))


def unmount(path: Path) -> None:
    for _ in range(10):
        if _run("umount", str(path)) or not os.path.ismount(path):
            return
        _run("sleep", "0.5")


def fill(path: Path) -> int:
    """Fill the filesystem of ``path`` to the last byte; the bytes written."""
    written = 0
    block = b"\0" * (1 << 16)
    with contextlib.suppress(OSError), (path / FILLER).open("ab") as f:
        while written < 1 << 34:  # bounded: 16 GiB
            f.write(block)
            f.flush()
            written += len(block)
    # the last few KiB that a 64 KiB block did not fit
    with contextlib.suppress(OSError), (path / FILLER).open("ab") as f:
        for _ in range(1 << 16):
            f.write(b"\0" * 512)
            f.flush()
            written += 512
    return written


def unfill(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (path / FILLER).unlink()


def immutable(files: list[Path], on: bool) -> bool:
    """``chattr +i`` (or ``-i``) on each existing file; False if chattr failed."""
    present = [str(f) for f in files if f.exists()]
    return not present or _run("chattr", "+i" if on else "-i", *present)


def probe_immutable(directory: Path) -> str:
    """"" if ``chattr +i`` makes writes through an open descriptor fail here, else why not."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        probe = Path(tmp) / "probe"
        fd = os.open(probe, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not immutable([probe], True):
                return "chattr +i is not permitted here"
            try:
                os.pwrite(fd, b"x", 0)
            except OSError as exc:
                return "" if exc.errno in (errno.EPERM, errno.EACCES, errno.EROFS) else str(exc)
            return "chattr +i does not stop writes on this filesystem"
        finally:
            immutable([probe], False)
            os.close(fd)


def probe_tmpfs(directory: Path) -> str:
    """"" if a tmpfs can be mounted here, else why not."""
    target = directory / "probe-tmpfs"
    if not mount_tmpfs(target, 1):
        return "mounting a tmpfs is not permitted here"
    unmount(target)
    with contextlib.suppress(OSError):
        target.rmdir()
    return ""
