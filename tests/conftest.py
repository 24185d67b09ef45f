"""Fixtures shared by the unit tests."""

import os
import subprocess
import sys

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size_mb)``: a folder on a file system of its own of ``size_mb`` MB (a tmpfs), to fill up.

    Mounting needs root on Linux (the course's CI machine): elsewhere the test is skipped, with the reason.
    """
    mounted_l = []

    def make(size_mb):
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            pytest.skip("a small full disk is a tmpfs mounted by root on Linux; not available here")
        folder = tmp_path / f"disk-{size_mb}mb-{len(mounted_l)}"
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")
        mounted_l.append(folder)
        return folder

    yield make
    for folder in mounted_l:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
