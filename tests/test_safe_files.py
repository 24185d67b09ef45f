"""course_utils.safe_files: the disk-space checks, the full-disk error, SIGTERM as Ctrl-C (the lock, the
temporary names and the atomic moves are tested through their writers: test_data, test_feature_cache,
test_checkpoint); librosa's compiled modules imported one process at a time."""

import errno
import os
import signal
import subprocess
import sys
import time

import pytest

from course_utils import safe_files


def test_a_full_disk_is_recognised_whoever_reports_it():
    assert safe_files.is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert safe_files.is_disk_full(RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0"))
    assert safe_files.is_disk_full(OSError("Can't write data (file write failed: errno = 28, error message = 'No "
                                           "space left on device')"))
    assert not safe_files.is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_ensure_free_space_names_the_file_the_space_free_and_needed(tmp_path):
    safe_files.ensure_free_space(tmp_path / "small.bin", 1000)
    with pytest.raises(safe_files.DiskFullError, match=r"while writing .*huge.bin: \d+ MB free, about \d+ MB needed"):
        safe_files.ensure_free_space(tmp_path / "not" / "yet" / "huge.bin", 10**18)  # a folder not made yet is fine


def test_disk_full_reported_turns_a_full_disk_into_one_error_and_lets_others_through(tmp_path):
    model_path = tmp_path / "model.pt"
    with pytest.raises(safe_files.DiskFullError, match="model.pt"), safe_files.disk_full_reported(model_path):
        raise RuntimeError("unexpected pos 128 vs 64")
    with pytest.raises(PermissionError), safe_files.disk_full_reported(tmp_path / "model.pt"):
        raise PermissionError("read-only")


def test_sigterm_inside_terminate_as_interrupt_is_a_keyboard_interrupt():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), safe_files.terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at the next instruction
        raise AssertionError("not interrupted")
    assert signal.getsignal(signal.SIGTERM) == previous, "the handler is restored"


def test_sigterm_is_deferred_while_files_are_moved_into_place(tmp_path):
    partial, final = tmp_path / "a.partial", tmp_path / "a"
    partial.write_text("new")
    with pytest.raises(KeyboardInterrupt), safe_files.interrupts_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        os.replace(partial, final)  # still runs: the signal waits for the end of the block
    assert final.read_text() == "new"


def test_course_utils_imports_librosas_compiled_modules_one_process_at_a_time():
    """While another process holds the lock, ``import course_utils`` waits; it then imports the modules that
    compile numba functions (their disk cache, written by two processes at once, crashes every later process)."""
    from filelock import FileLock

    code = ("import sys, course_utils; from course_utils import safe_files; "
            "print(all(name in sys.modules for name in safe_files.LIBROSA_COMPILED_MODULE_L))")
    with FileLock(str(safe_files.librosa_lock_path())):
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                   text=True)
        time.sleep(5)
        waited = process.poll() is None
    out, _ = process.communicate(timeout=600)
    assert waited, "course_utils was imported while another process held the lock"
    assert process.returncode == 0 and out.strip() == "True", (process.returncode, out)
