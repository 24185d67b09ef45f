"""Worker processes that never outlive the process that started them.

The data build and the feature cache compute in a pool of worker processes. If their parent is killed
(``kill -9``, a crashed kernel, a closed laptop lid that ends the session), nothing tells the workers: they would
go on waiting for work for ever, holding memory. ``process_pool`` starts workers that watch their parent and end
when it is gone (on Linux the kernel also sends them SIGKILL when the parent dies, ``PR_SET_PDEATHSIG``), and
``stop_pool`` cancels the work not yet started when the parent stops early (an error, Ctrl-C, SIGTERM).

Used by ``data.build`` and ``feature_cache``.
"""

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PARENT_POLL_SEC = 0.5


def _watch_parent(parent_pid):
    """Thread of a worker: end the worker at once when its parent has gone (it is then adopted by another)."""
    while True:
        time.sleep(PARENT_POLL_SEC)
        if os.getppid() != parent_pid:
            os._exit(1)


def worker_initializer(parent_pid):
    """Run in each new worker: die with the parent (Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; everywhere: a
    thread that polls the parent's id), and leave SIGINT to the parent (Ctrl-C stops the parent, which stops
    the pool)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before this line
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def process_pool(n_workers):
    """A ``ProcessPoolExecutor`` of ``n_workers`` processes that end when this process ends, however it ends."""
    return ProcessPoolExecutor(max_workers=n_workers, initializer=worker_initializer, initargs=(os.getpid(),))


def stop_pool(pool):
    """Cancel the work that has not started and wait for the running tasks (seconds each), so that no worker is
    left behind when the parent stops early."""
    pool.shutdown(wait=True, cancel_futures=True)
