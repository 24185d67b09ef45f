"""Writing files that other processes read: nothing lost, nothing half-written, nobody in the way.

The course writes a few files that are expensive to make and read by several processes at once (two
notebooks opened together, DataLoader workers): the dataset pair, feature caches, checkpoints. Each
writer here

- holds a lock (``file_lock``, a ``filelock.FileLock`` beside the file) while it checks and writes, so
  that two processes never build the same file at once: the second waits, then finds it done;
- writes to a name of its own (``partial_path``: the process id and a random part), never to the final
  name, and moves the file into place when complete (``os.replace`` is atomic);
- defers Ctrl-C and SIGTERM while it moves a pair of files into place (``interrupts_deferred``), so that an
  interrupted run leaves either the old pair or the new one; ``terminate_as_interrupt`` makes a SIGTERM (what
  ``kill`` and a closing notebook server send) run the same clean-up as Ctrl-C;
- checks the free space before a large write whose size is known (``ensure_free_space``), and turns a full
  disk into one clear error naming the file (``DiskFullError``): HDF5 cannot report a failed write reliably
  (its errors come back in object finalisers, and the interpreter may crash at exit), so the course never
  writes to a disk without room for what it writes.

Used by ``data.build``, ``feature_cache``, ``checkpoint`` and ``tools.website``. And one file the course does not
write: librosa's cache of compiled numba functions, which two processes filling at once can break for good
(``import_librosa_modules``, run when ``course_utils`` is imported).
"""

import contextlib
import errno
import os
import shutil
import signal
import threading
import uuid
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_TIMEOUT_SEC = 3 * 3600  # a full dataset build on a slow laptop takes minutes; never wait for ever


def lock_path(path):
    """The lock file of ``path``: ``.<name>.lock`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def file_lock(path, what=None):
    """Hold the lock of ``path`` (waiting, with a message, while another process holds it)."""
    lock = FileLock(str(lock_path(path)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"waiting for another process writing {what or Path(path).name} (lock {lock_path(path)}) ...",
              flush=True)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT_SEC)
        except Timeout:
            raise TimeoutError(f"{lock_path(path)}: still locked after {LOCK_TIMEOUT_SEC / 3600:.0f} h; if no other "
                               "course process is running, delete this lock file") from None
    try:
        yield
    finally:
        lock.release()


def partial_path(path):
    """A temporary name for ``path`` that no other process uses: ``<name>.<pid>-<random>.partial``."""
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")


def remove_stale_partials(path):
    """Delete temporary files of ``path`` left by killed writers; call it while holding ``file_lock(path)``."""
    path = Path(path)
    for stale in path.parent.glob(f"{path.name}.*.partial"):
        stale.unlink(missing_ok=True)


_STOP_SIGNAL_L = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C (SIGINT) or SIGTERM received inside the block is raised as KeyboardInterrupt when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received_l = []
    previous_d = {signum: signal.signal(signum, lambda signum, frame: received_l.append(signum))
                  for signum in _STOP_SIGNAL_L}
    try:
        yield
    finally:
        for signum, previous in previous_d.items():
            signal.signal(signum, previous)
    if received_l:
        raise KeyboardInterrupt


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def terminate_as_interrupt():
    """Inside the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does: the writers' ``finally`` blocks remove
    their temporary files and stop their workers. Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def replace_all(pair_l):
    """Move each (partial, final) path into place, Ctrl-C deferred until all are moved."""
    with interrupts_deferred():
        for partial, final in pair_l:
            os.replace(partial, final)


# --- a full disk -------------------------------------------------------------------------------------

# Room kept free beyond what a write needs: HDF5's own structures, and the file system's blocks.
FREE_SPACE_MARGIN_BYTES = 8 * 2**20


class DiskFullError(OSError):
    """Not enough free space to write a file: the message names the file, the space free and the space needed."""


def free_bytes(path):
    """Free bytes on the disk that holds ``path`` (or its nearest existing folder)."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def disk_full_error(path, needed_bytes=None):
    """The ``DiskFullError`` of a write of ``path`` that does not fit, with what is free and what is needed."""
    needed = f", about {needed_bytes / 1e6:.0f} MB needed" if needed_bytes else ""
    return DiskFullError(errno.ENOSPC, f"no space left on device while writing {path}: "
                                       f"{free_bytes(path) / 1e6:.0f} MB free{needed}; free some space (e.g. delete "
                                       "old feature caches or checkpoints under data/) or write elsewhere, then run "
                                       "again (the previous file, if any, is kept)")


def ensure_free_space(path, needed_bytes):
    """Raise ``DiskFullError`` when the disk of ``path`` has less than ``needed_bytes`` (plus a margin) free."""
    if free_bytes(path) < needed_bytes + FREE_SPACE_MARGIN_BYTES:
        raise disk_full_error(path, needed_bytes + FREE_SPACE_MARGIN_BYTES)


def is_disk_full(error):
    """True when an error says the disk (or the user's quota) is full, whoever raised it (Python, torch, HDF5)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    text = str(error)
    return "No space left on device" in text or "unexpected pos" in text or "Disk quota exceeded" in text


@contextlib.contextmanager
def disk_full_reported(path, needed_bytes=None):
    """A full disk met inside the block is re-raised as one ``DiskFullError`` naming ``path``."""
    try:
        yield
    except DiskFullError:
        raise
    except (OSError, RuntimeError) as error:
        if is_disk_full(error):
            raise disk_full_error(path, needed_bytes) from None
        raise


# --- librosa's compiled functions --------------------------------------------------------------------

# librosa's modules that compile numba functions (``guvectorize``) when imported, and cache the machine code on
# disk (two files per function). Two processes writing that cache at the same moment (a fresh install: the two test
# workers, or two notebooks, starting together) can leave the two files inconsistent, for good: every later
# process that uses the function then dies of a segmentation fault (numba issue #10128; measured here: 12 of 22
# caches written by 2 or 3 processes at once; with this lock, 0 of 10). The course's own numba function
# (``covers``) is compiled on first call into a single file, which is written atomically.
LIBROSA_COMPILED_MODULE_L = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch")


def librosa_lock_path():
    """The lock that ``import_librosa_modules`` holds: one per user, in the temporary folder."""
    import tempfile

    user = "".join(c for c in os.environ.get("USER", os.environ.get("USERNAME", "")) if c.isalnum())
    return Path(tempfile.gettempdir()) / f"course_utils-librosa-{user or 'user'}.lock"


def import_librosa_modules():
    """Import ``LIBROSA_COMPILED_MODULE_L`` one process at a time (``librosa_lock_path``, held while they compile
    or read their cache): the first process writes the cache whole, the others read it. Called when
    ``course_utils`` is imported; free once the modules are loaded in this process."""
    import importlib
    import sys

    if all(name in sys.modules for name in LIBROSA_COMPILED_MODULE_L):
        return
    with FileLock(str(librosa_lock_path()), timeout=LOCK_TIMEOUT_SEC):
        for name in LIBROSA_COMPILED_MODULE_L:
            importlib.import_module(name)
