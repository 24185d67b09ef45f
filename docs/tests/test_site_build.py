"""sphinx-build as the site uses it: a broken link stops the build, and a failed build keeps the previous site."""

import shutil

import pytest

from course_utils import runtime
from course_utils.tools import website

ROOT = runtime.project_dir()


def _stage(folder, index_text):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("conf.py", "favicon.svg"):
        shutil.copy(ROOT / "docs" / name, folder / name)
    (folder / "index.md").write_text(index_text, encoding="utf-8")
    return folder


def test_a_build_replaces_the_site_and_a_failed_one_keeps_it(tmp_path):
    html_dir = tmp_path / "html"
    website.run_sphinx(_stage(tmp_path / "good", "# A course\n\nSee [the glossary](#a-course).\n"), html_dir)
    first = (html_dir / "index.html").read_text(encoding="utf-8")
    assert "A course" in first
    broken = _stage(tmp_path / "broken", "# A course\n\nSee [the glossary](docs/glossary.md#patch).\n")
    with pytest.raises(RuntimeError, match=r"(?s)sphinx-build failed .*index.md:3: WARNING: "
                                           r".*target not found: .docs/glossary.md#patch"):
        website.run_sphinx(broken, html_dir)
    assert (html_dir / "index.html").read_text(encoding="utf-8") == first, "the failed build touched the site"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken", "doctrees", "good", "html"]
    website.run_sphinx(_stage(tmp_path / "good", "# A second course\n"), html_dir)
    assert "A second course" in (html_dir / "index.html").read_text(encoding="utf-8")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken", "doctrees", "good", "html"]
