"""Writing files that other processes read: nothing lost, nothing half-written, nobody in the way.

The course writes a few files that are expensive to make and read by several processes at once (two
notebooks opened together, DataLoader workers): the dataset pair, feature caches, checkpoints. Each
writer here

- holds a lock (``file_lock``, a ``filelock.FileLock`` beside the file) while it checks and writes, so
  that two processes never build the same file at once: the second waits, then finds it done;
- writes to a name of its own (``partial_path``: the process id and a random part), never to the final
  name, and moves the file into place when complete (``os.replace`` is atomic);
- defers Ctrl-C while it moves a pair of files into place (``interrupts_deferred``), so that an
  interrupted run leaves either the old pair or the new one.

Used by ``data.build``, ``feature_cache`` and ``train``.
"""

import contextlib
import os
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


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C (SIGINT) received inside the block is raised as KeyboardInterrupt when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received_l = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received_l.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received_l:
        raise KeyboardInterrupt


def replace_all(pair_l):
    """Move each (partial, final) path into place, Ctrl-C deferred until all are moved."""
    with interrupts_deferred():
        for partial, final in pair_l:
            os.replace(partial, final)
