"""Keep the embedded mode's data directory private to the user the service runs as.

``var/`` holds the SQLite database (and its ``-wal`` and ``-shm`` files), the key set and the
collected static files. Another account on the same machine must not be able to copy any of
it, so the process creates everything with umask 077 and, on every start, corrects what an
older version, a restore from backup or a careless ``cp`` left readable.
"""

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def var_dir_make_private(path: Path) -> None:
    """Set umask 077 for this process, create ``path`` 0700, and make everything under it 0700/0600.

    Symbolic links are left alone (never followed), and so are entries owned by another
    user, which this process could not change anyway.
    """
    os.umask(PRIVATE_UMASK)
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    uid = os.getuid()
    for entry in (path, *path.rglob("*")):
        try:
            status = entry.lstat()
        except FileNotFoundError:
            continue  # gone since it was listed (SQLite's -shm/-wal files come and go with connections)
        if stat.S_ISLNK(status.st_mode) or status.st_uid != uid:
            continue
        wanted = DIRECTORY_MODE if stat.S_ISDIR(status.st_mode) else FILE_MODE
        if stat.S_IMODE(status.st_mode) & ~wanted:
            os.chmod(entry, stat.S_IMODE(status.st_mode) & wanted)
