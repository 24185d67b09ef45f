"""course_utils.processes: pools whose workers end with their parent (the kill -9 case runs a real build in
test_data.test_workers_end_when_the_build_is_killed)."""

import os
import time

from course_utils import processes


def _pid_and_parent(_):
    return os.getpid(), os.getppid()


def _slow(seconds):
    time.sleep(seconds)
    return seconds


def test_a_pools_workers_know_their_parent_and_stop_pool_cancels_what_has_not_started():
    pool = processes.process_pool(2)
    pid_l = pool.map(_pid_and_parent, range(4))
    assert {parent for _, parent in pid_l} == {os.getpid()}
    future_l = [pool.submit(_slow, 0.2) for _ in range(20)]
    start = time.monotonic()
    processes.stop_pool(pool)
    assert time.monotonic() - start < 3, "the queued work was cancelled, not run"
    assert sum(future.cancelled() for future in future_l) > 10
