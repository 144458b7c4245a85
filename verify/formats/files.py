"""The file checks every model format shares: a regular readable file of bounded size, and its sha256."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from verify.core.errors import InputError

MAX_FILE_BYTES = 64 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_model_file(path: Path, kind: str) -> int:
    """The checks every model format shares (exists, a regular file, readable); returns its size.

    A FIFO or a device (/dev/zero, /dev/stdin) is refused as "not a regular file" before it is
    read, since reading it could block or never end; a symlink loop is named as such.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: symbolic link loop (too many levels of symbolic links)") from None
        raise InputError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a directory, not {'an' if kind[0] in 'AEIOU' else 'a'} {kind}")
    if not stat.S_ISREG(info.st_mode):
        what = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode) or \
            stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "special"
        raise InputError(f"{path}: not a regular file ({what}); give the model file itself")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")
    return info.st_size
