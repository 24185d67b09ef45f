"""The website's sources (course_utils.tools.website): launch links, the landing page made of README.md's own sections,
the pages' notebooks. The Sphinx build and the browser test are in docs/tests (``.ci/run`` runs them)."""

import nbformat
import pytest

from course_utils import runtime
from course_utils.tools import launch, site_pages, website

ROOT = runtime.project_dir()
README_TEXT = (ROOT / "README.md").read_text(encoding="utf-8")


REPOSITORY = "https://github.com/someone/course"


def test_launch_links_open_the_notebook_of_the_repository():
    assert launch.colab_url("05_training_tagging.ipynb", REPOSITORY) == (
        "https://colab.research.google.com/github/someone/course/blob/main/notebooks/05_training_tagging.ipynb")
    assert launch.binder_url("05_training_tagging.ipynb", REPOSITORY) == (
        "https://mybinder.org/v2/gh/someone/course/main?labpath=notebooks%2F05_training_tagging.ipynb")


def test_the_repository_comes_from_one_setting_or_the_git_remote_and_is_none_when_unknown(tmp_path, monkeypatch):
    import subprocess

    monkeypatch.delenv(launch.REPOSITORY_VARIABLE, raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert launch.repository_url(root=tmp_path) is None, "no remote: no address, no launch links"
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:someone/course.git"],
                   check=True)
    assert launch.repository_url(root=tmp_path) == REPOSITORY
    monkeypatch.setenv(launch.REPOSITORY_VARIABLE, "https://github.com/teacher/fork")
    assert launch.repository_url(root=tmp_path) == "https://github.com/teacher/fork"
    assert launch.repository_url("https://github.com/build/time.git", root=tmp_path) == "https://github.com/build/time"
    page = site_pages.landing_page_markdown(README_TEXT, website.notebook_paths(ROOT / "notebooks"))
    assert "colab.research.google.com" not in page and "mybinder.org" not in page


def test_a_repository_that_is_not_on_github_is_refused_with_what_is_expected():
    with pytest.raises(ValueError, match="not a GitHub address 'https://github.com/owner/name'"):
        launch.colab_url("01_data.ipynb", "https://gitlab.com/someone/course")


def test_binder_builds_from_the_repositorys_own_environment_file():
    import yaml

    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_l = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_l, "environment.yml must install the course itself (Binder builds from it)"
    assert not (ROOT / "binder").exists(), "a binder/ folder would make Binder ignore environment.yml"


def test_the_landing_page_copies_the_readmes_sections_and_results_table():
    page = site_pages.landing_page_markdown(README_TEXT, website.notebook_paths(ROOT / "notebooks"),
                                            repository=REPOSITORY)
    for heading_start in ("Quick start", "The notebooks", "Results"):
        heading, text = site_pages.readme_section(README_TEXT, heading_start)
        assert f"## {heading}\n\n{text}\n" in page
    assert "\n".join(site_pages.results_table_lines(README_TEXT)) in page
    for path in website.notebook_paths(ROOT / "notebooks"):
        assert f"(notebooks/{path.name})" in page and launch.colab_url(path.name, REPOSITORY) in page
        assert f"notebooks/{path.stem}\n" in page  # in the navigation
    assert "fast mode" in page and "default mode" in site_pages.landing_page_markdown(
        README_TEXT, website.notebook_paths(ROOT / "notebooks"), executed_in="default")


def test_the_results_table_is_read_as_rows_of_cells():
    row_l = site_pages.table_rows(site_pages.results_table_lines(README_TEXT))
    assert row_l[0][0] == "notebook" and len(row_l) == 1 + len(website.notebook_paths())
    assert [row[0] for row in row_l[1:]] == [f"`{path.stem}`" for path in website.notebook_paths()]


def test_a_missing_readme_section_names_the_sections_there_are():
    with pytest.raises(ValueError, match=r"no section '## Outcomes\.\.\.'.*'Quick start"):
        site_pages.readme_section(README_TEXT, "Outcomes")


def test_a_page_shows_no_widget_no_check_cell_and_gets_its_launch_links_once():
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    notebook.cells = [nbformat.v4.new_markdown_cell("# 09 · A title"), nbformat.v4.new_code_cell("loop()"),
                      nbformat.v4.new_code_cell("assert auc > 0.8", metadata={"tags": ["check"]}),
                      nbformat.v4.new_code_cell(launch.colab_cell_source(), metadata={"tags": ["colab"]})]
    notebook.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        website.WIDGET_MIME: {"model_id": "x"}, "text/plain": "100%|##########| 3/3"})]
    unknown = website.page_notebook(nbformat.from_dict(notebook), "09_title.ipynb")
    assert [cell.id for cell in unknown.cells].count("launch-links") == 0, "no repository known: no launch links"
    for _ in range(2):
        notebook = website.page_notebook(notebook, "09_title.ipynb", REPOSITORY)
    assert "widgets" not in notebook.metadata
    assert notebook.cells[1].source == launch.launch_links_markdown("09_title.ipynb", REPOSITORY)
    assert [cell.id for cell in notebook.cells].count("launch-links") == 1
    assert notebook.cells[2].outputs[0]["data"] == {"text/plain": "100%|##########| 3/3"}
    assert "remove-cell" in notebook.cells[3].metadata.tags, "the site hides the cells that keep CI honest"
    assert launch.repository_in_cell(notebook.cells[4].source) == REPOSITORY


def test_the_bibliography_page_lists_every_reference_with_an_anchor():
    from course_utils import references

    bibliography_d = references.load_bibliography()
    page = site_pages.bibliography_markdown(bibliography_d)
    for key in bibliography_d:
        assert f"({key.lower()})=\n### {key}\n{references.format_reference(key, bibliography_d)}" in page


def test_staging_from_a_folder_without_the_executed_notebooks_names_them(tmp_path):
    (tmp_path / "executed").mkdir()
    (tmp_path / "executed" / "01_data.ipynb").write_text("{}")
    expected = r"lacks the executed notebooks \['02_features.ipynb'.*-m benchmarks\.results"
    with pytest.raises(FileNotFoundError, match=expected):
        website.stage_source(tmp_path / "source", executed_dir=tmp_path / "executed")


def test_staging_lays_out_the_repository_for_the_notebooks_relative_links(tmp_path):
    """Staged from notebooks 'executed' elsewhere (here: the committed ones, outputs cleared), no kernel started."""
    website.stage_source(tmp_path / "source", executed_dir=ROOT / "notebooks", repository=REPOSITORY)
    staged_l = sorted(path.name for path in (tmp_path / "source" / "notebooks").glob("*.ipynb"))
    assert staged_l == [path.name for path in website.notebook_paths()]
    for name in ("index.md", "conf.py", "favicon.svg", "docs/glossary.md", "docs/bibliography.md"):
        assert (tmp_path / "source" / name).is_file(), name
    glossary = (tmp_path / "source" / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert "(bibliography.md)" in glossary and "(bibliography.yaml)" not in glossary
    staged = nbformat.read(tmp_path / "source" / "notebooks" / "06_training_multipitch.ipynb", as_version=4)
    assert staged.cells[1].id == "launch-links"
    assert "default mode" in (tmp_path / "source" / "index.md").read_text(encoding="utf-8")


def test_inputs_without_what_the_site_needs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no notebook '\[0-9\]\[0-9\]_\*.ipynb' in .*empty"):
        website.notebook_paths(tmp_path / "empty")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("no title here")]
    nbformat.write(notebook, tmp_path / "09_untitled.ipynb")
    with pytest.raises(ValueError, match=r"09_untitled.ipynb: no '# ' title in any markdown cell"):
        site_pages.notebook_title(tmp_path / "09_untitled.ipynb")
    with pytest.raises(ValueError, match="no markdown table in the text"):
        site_pages.first_markdown_table("## Results\n\nNo table yet.\n")


def test_the_browser_tests_chromium_is_found_or_its_absence_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no Chromium found on the PATH: install it \(Debian/Ubuntu: "
                                                r"'sudo apt-get install chromium'.*COURSE_CHROMIUM"):
        website.find_chromium({"PATH": str(tmp_path)})
    with pytest.raises(FileNotFoundError, match=r"COURSE_CHROMIUM=.*nowhere: no such file"):
        website.find_chromium({"PATH": str(tmp_path), "COURSE_CHROMIUM": str(tmp_path / "nowhere")})
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert website.find_chromium({"PATH": str(tmp_path)}) == str(binary)
    assert website.find_chromium({"PATH": "", "COURSE_CHROMIUM": str(binary)}) == str(binary)


def test_an_executed_notebook_with_an_error_or_truncated_is_refused_by_name(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 09 · Title"),
                                               nbformat.v4.new_code_cell("1 / 0")])
    notebook.cells[1].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                        traceback=["..."])]
    nbformat.write(notebook, tmp_path / "09_title.ipynb")
    with pytest.raises(ValueError, match=r"09_title.ipynb: cell 1 holds an error \(ZeroDivisionError: division by "
                                         r"zero\); fix the notebook"):
        website.read_executed(tmp_path / "09_title.ipynb")
    (tmp_path / "08_cut.ipynb").write_text((tmp_path / "09_title.ipynb").read_text()[:100])
    with pytest.raises(ValueError, match="08_cut.ipynb: not a readable notebook .* it may be truncated"):
        website.read_executed(tmp_path / "08_cut.ipynb")


def test_the_notebooks_nbval_executed_are_kept_with_their_outputs_and_mode(tmp_path):
    """CI executes each notebook once: nbval's outputs, written by save_nbval_notebooks, are what the site shows."""
    from types import SimpleNamespace

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01"),
                                               nbformat.v4.new_code_cell("print(1)"),
                                               nbformat.v4.new_code_cell("2")])
    notebook_item = SimpleNamespace(nb=notebook, path=tmp_path / "01_data.ipynb")
    printed = nbformat.v4.new_output("stream", name="stdout", text="1\n")
    item_l = [SimpleNamespace(parent=notebook_item, cell_num=0, test_outputs=[printed]),
              SimpleNamespace(parent=notebook_item, cell_num=1, test_outputs=[]),
              SimpleNamespace(name="a unit test")]
    (path,) = website.save_nbval_notebooks(item_l, tmp_path / "executed", fast_mode=True)
    saved = nbformat.read(path, as_version=4)
    nbformat.validate(saved)
    assert saved.cells[1].outputs[0]["text"] == "1\n" and saved.cells[1].execution_count == 1
    assert website.executed_mode(saved) == "fast"
    assert not notebook.cells[1].outputs, "the collected notebook itself is left as it was"

    item_l[1].test_outputs = None  # a cell that did not run: the notebook is not kept
    assert website.save_nbval_notebooks(item_l, tmp_path / "other", fast_mode=True) == []


def test_staging_from_notebooks_executed_in_two_modes_is_refused(tmp_path):
    """The landing page says which mode the notebooks ran in: a folder that mixes both cannot say it."""
    executed_dir = tmp_path / "executed"
    executed_dir.mkdir()
    for index, path in enumerate(website.notebook_paths()):
        notebook = nbformat.read(path, as_version=4)
        if index == 0:
            notebook.metadata["course"] = {"executed_mode": "fast"}
        nbformat.write(notebook, executed_dir / path.name)
    with pytest.raises(ValueError, match="mixes notebooks executed in the fast and the default mode"):
        website.stage_source(tmp_path / "source", executed_dir=executed_dir)
