"""The course as a website: executed notebooks (text, code, printouts, figures, audio), a landing page, the
glossary and the bibliography, built by Sphinx with ``myst-nb`` (``pip install -e ".[site]"``).

    .venv/bin/python -m course_utils.tools.website                      # executes every notebook in fast mode
    .venv/bin/python -m course_utils.tools.website --mode default       # the default mode (about 15 min, 2 cores)
    .venv/bin/python -m course_utils.tools.website --executed data/executed  # as run by python -m benchmarks.results
    COURSE_EXECUTED_DIR=_site/executed .venv/bin/pytest; ... --executed _site/executed  # as run by the tests (CI)

The site goes to ``_site/html`` (open ``_site/html/index.html``). The build stages a copy of the repository's
layout in ``_site/source`` (``index.md``, ``notebooks/*.ipynb`` executed, ``docs/glossary.md``,
``docs/bibliography.md``) so that the notebooks' relative links work unchanged, and runs
``sphinx-build -W`` on it with ``docs/conf.py``: a broken internal link or an unreadable notebook stops the
build with Sphinx's message.

Every page of a notebook gets its launch links: "Open in Colab" (the notebook's first code cell installs the
course there, ``launch.colab_cell_source``) and Binder (which builds from ``environment.yml``).
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course_utils import references, runtime, safe_files
from course_utils.tools import launch
from course_utils.tools.site_pages import bibliography_markdown, landing_page_markdown

SITE_DIR_NAME = "_site"
SITE_SIZE_GUESS_BYTES = 100 * 2**20  # the size of a first build (about 55 MB in the fast mode)
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


# ---------------------------------------------------------------- the landing page


def notebook_paths(notebook_dir=None):
    """The course's numbered notebooks, in order."""
    notebook_dir = Path(notebook_dir or runtime.project_dir() / "notebooks")
    path_l = sorted(notebook_dir.glob(NOTEBOOK_GLOB))
    if not path_l:
        raise FileNotFoundError(f"no notebook '{NOTEBOOK_GLOB}' in {notebook_dir}")
    return path_l


def execute_notebook(path, fast_mode, timeout_s=3600, extra_env_d=None):
    """Execute a notebook top to bottom as a student would (from its folder): (executed notebook, seconds).

    ``fast_mode`` sets ``COURSE_FAST_MODE`` for its kernel; an error in a cell raises nbclient's
    ``CellExecutionError``, which names the cell.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    env_d = {**os.environ, "COURSE_FAST_MODE": "1" if fast_mode else "0", **(extra_env_d or {})}
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout_s, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute(env=env_d)
    return notebook, time.perf_counter() - start


def read_executed(path):
    """An executed notebook, refused with its name when it cannot be read (truncated, not a notebook) or when a cell
    holds an error output: the site never publishes a traceback as if it were the course."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and reader errors of several types
        raise ValueError(f"{path}: not a readable notebook ({type(error).__name__}: {error}); it may be truncated: "
                         "execute it again (benchmarks/results.py)") from None
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ValueError(f"{path}: cell {index} holds an error ({output.get('ename')}: "
                                 f"{output.get('evalue')}); fix the notebook and execute it again")
    return notebook


def executed_mode(notebook):
    """The mode an executed notebook ran in: 'fast' or 'default' (``metadata.course.executed_mode``, written by
    ``save_nbval_notebooks``; notebooks without it come from ``benchmarks/results.py``: 'default')."""
    return notebook.metadata.get("course", {}).get("executed_mode", "default")


def save_nbval_notebooks(item_l, out_dir, fast_mode):
    """Write the notebooks that nbval has just executed, with the outputs it collected, to ``out_dir``: the site
    then shows them (``--executed out_dir``) instead of executing every notebook a second time.

    ``item_l``: the test items of a pytest session (nbval's cells carry ``cell_num`` and ``test_outputs``);
    a notebook with a cell that did not run (deselected, or the run stopped) is not written. Returns the paths.
    """
    import nbformat

    cell_item_d = {}  # id of the notebook's item -> (the notebook's item, its cells' items)
    for item in item_l:
        if hasattr(item, "test_outputs") and hasattr(item, "cell_num"):
            cell_item_d.setdefault(id(item.parent), (item.parent, []))[1].append(item)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path_l = []
    for notebook_item, cell_item_l in cell_item_d.values():
        notebook = copy.deepcopy(notebook_item.nb)
        code_cell_l = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if any(item.test_outputs is None for item in cell_item_l) or len(cell_item_l) != len(code_cell_l):
            continue
        for count, item in enumerate(cell_item_l, start=1):
            code_cell_l[item.cell_num].outputs = item.test_outputs
            code_cell_l[item.cell_num].execution_count = count
        notebook.metadata["course"] = {"executed_mode": "fast" if fast_mode else "default"}
        path = Path(out_dir) / Path(str(notebook_item.path)).name
        with safe_files.file_lock(path):
            partial = safe_files.partial_path(path)
            nbformat.write(notebook, partial)
            safe_files.replace_all([(partial, path)])
        path_l.append(path)
    return path_l


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def page_notebook(notebook, notebook_name, repository=None):
    """The executed notebook as its page shows it: launch links under the title and the Colab cell for
    ``repository`` (none when it is unknown); the cells that only keep CI honest (tag ``check``) hidden; progress-bar
    widgets as the text they print (a widget needs JavaScript from a CDN: a page loads nothing from elsewhere)."""
    import nbformat

    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                del output["data"][WIDGET_MIME]
        tag_l = cell.metadata.get("tags", [])
        if "check" in tag_l and "remove-cell" not in tag_l:
            cell.metadata["tags"] = [*tag_l, "remove-cell"]  # myst-nb leaves it out of the page
        if "colab" in tag_l and repository:
            cell.source = launch.colab_cell_source(repository)
    if repository and not any(cell.get("id") == "launch-links" for cell in notebook.cells):
        cell = nbformat.v4.new_markdown_cell(launch.launch_links_markdown(notebook_name, repository))
        cell.id = "launch-links"
        notebook.cells.insert(1, cell)
    return notebook


def stage_source(stage_dir, executed_dir=None, fast_mode=True, jobs=2, root=None, repository=None):
    """Fill ``stage_dir`` with the site's sources; returns dict notebook name -> seconds it took to execute (0 when
    taken from ``executed_dir``).

    ``executed_dir`` holds notebooks of the same names already executed: in the default mode by
    ``benchmarks/results.py`` (``data/executed``), or in the fast mode by the test run (``save_nbval_notebooks``);
    without it every notebook is executed here, ``jobs`` at a time, in fast mode or not.
    """
    import nbformat

    root = Path(root or runtime.project_dir())
    stage_dir = Path(stage_dir)
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    (stage_dir / "notebooks").mkdir(parents=True)
    (stage_dir / "docs").mkdir()
    path_l = notebook_paths(root / "notebooks")
    if executed_dir is not None:
        missing_l = [path.name for path in path_l if not (Path(executed_dir) / path.name).is_file()]
        if missing_l:
            raise FileNotFoundError(f"{executed_dir} lacks the executed notebooks {missing_l}: run "
                                    "'.venv/bin/python -m benchmarks.results' first, or build without --executed")

    def one_notebook(path):
        if executed_dir is not None:
            return read_executed(Path(executed_dir) / path.name), 0.0
        return execute_notebook(path, fast_mode)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        result_l = list(pool.map(one_notebook, path_l))
    seconds_d = {}
    for path, (notebook, seconds) in zip(path_l, result_l, strict=True):
        nbformat.write(page_notebook(notebook, path.name, repository), stage_dir / "notebooks" / path.name)
        seconds_d[path.name] = seconds
    readme_text = (root / "README.md").read_text(encoding="utf-8")
    mode_s = {executed_mode(notebook) for notebook, _ in result_l} if executed_dir is not None else set()
    if len(mode_s) > 1:
        raise ValueError(f"{executed_dir} mixes notebooks executed in the fast and the default mode: execute them "
                         "again in one mode")
    executed_in = mode_s.pop() if mode_s else ("fast" if fast_mode else "default")
    (stage_dir / "index.md").write_text(landing_page_markdown(readme_text, path_l, executed_in, repository),
                                        encoding="utf-8")
    glossary = (root / "docs" / "glossary.md").read_text(encoding="utf-8")
    (stage_dir / "docs" / "glossary.md").write_text(glossary.replace("(bibliography.yaml)", "(bibliography.md)"),
                                                    encoding="utf-8")
    bibliography_d = references.load_bibliography(root / "docs" / "bibliography.yaml")
    (stage_dir / "docs" / "bibliography.md").write_text(bibliography_markdown(bibliography_d), encoding="utf-8")
    for name in ("conf.py", "favicon.svg"):
        shutil.copy(root / "docs" / name, stage_dir / name)
    return seconds_d


def run_sphinx(stage_dir, html_dir):
    """``sphinx-build -W`` (a warning is an error: a broken link, an unreadable page) from ``stage_dir`` into
    ``html_dir``, replaced only when the build succeeds (an interrupted or failed build keeps the previous site)."""
    html_dir = Path(html_dir)
    html_dir.parent.mkdir(parents=True, exist_ok=True)
    safe_files.ensure_free_space(html_dir, folder_size_bytes(html_dir) if html_dir.exists() else SITE_SIZE_GUESS_BYTES)
    new_dir = Path(tempfile.mkdtemp(prefix=f"{html_dir.name}.new-", dir=html_dir.parent))
    command_l = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-j", "auto",
                 str(stage_dir), str(new_dir), "-d", str(Path(stage_dir).parent / "doctrees")]
    completed = subprocess.run(command_l, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(new_dir, ignore_errors=True)
        if "No space left on device" in completed.stdout + completed.stderr:
            raise safe_files.disk_full_error(html_dir, SITE_SIZE_GUESS_BYTES)
        raise RuntimeError(f"sphinx-build failed ({' '.join(command_l)}):\n{completed.stdout}{completed.stderr}")
    old_dir = html_dir.with_name(f"{html_dir.name}.old-{os.getpid()}")
    if html_dir.exists():
        os.replace(html_dir, old_dir)  # the previous site stays whole until the new one is in place
    os.replace(new_dir, html_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
    return html_dir


CHROMIUM_NAME_L = ("chromium", "chromium-browser", "google-chrome")


def find_chromium(environ=None):
    """The Chromium binary of the browser test: ``COURSE_CHROMIUM``, else the first of ``CHROMIUM_NAME_L`` on the
    PATH; none is an error that says how to install one (the test never downloads a browser)."""
    environ = os.environ if environ is None else environ
    if environ.get("COURSE_CHROMIUM"):
        if not Path(environ["COURSE_CHROMIUM"]).is_file():
            raise FileNotFoundError(f"COURSE_CHROMIUM={environ['COURSE_CHROMIUM']}: no such file")
        return environ["COURSE_CHROMIUM"]
    for name in CHROMIUM_NAME_L:
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return found
    raise FileNotFoundError("no Chromium found on the PATH: install it (Debian/Ubuntu: 'sudo apt-get install "
                            "chromium'; macOS: 'brew install --cask chromium') or set COURSE_CHROMIUM to its binary")


def folder_size_bytes(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def build_site(out_dir=None, executed_dir=None, fast_mode=True, jobs=2, root=None, repository=None):
    """Stage the sources and build the HTML site in ``out_dir/html``: dict with ``html_dir``, the repository the
    launch links open (``launch.repository_url(repository)``; None: no launch links), the seconds to execute the
    notebooks and to build, and the site's size in bytes."""
    from filelock import FileLock

    root = Path(root or runtime.project_dir())
    out_dir = Path(out_dir or root / SITE_DIR_NAME)
    out_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir / "build.lock")):  # a second build at once waits for the first
        for stale in [*out_dir.glob("html.new-*"), *out_dir.glob("html.old-*")]:  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        start = time.perf_counter()
        repository = launch.repository_url(repository, root)
        seconds_d = stage_source(out_dir / "source", executed_dir, fast_mode, jobs, root, repository)
        executed_s = time.perf_counter() - start
        html_dir = run_sphinx(out_dir / "source", out_dir / "html")
        (out_dir / "launch.json").write_text(json.dumps({"repository": repository}), encoding="utf-8")
    return {"html_dir": html_dir, "repository": repository, "notebook_seconds": seconds_d, "execute_s": executed_s,
            "sphinx_s": time.perf_counter() - start - executed_s, "size_bytes": folder_size_bytes(html_dir)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_utils.tools.website", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help=f"output folder (default: {SITE_DIR_NAME}/)")
    parser.add_argument("--mode", choices=["fast", "default"], default="fast",
                        help="the mode the notebooks are executed in (default: fast, as the test run)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="take executed notebooks from this folder (e.g. data/executed) instead of running them")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default: 2)")
    parser.add_argument("--repository", default=None,
                        help=f"the course's GitHub address for the Colab and Binder links (default: "
                             f"${launch.REPOSITORY_VARIABLE}, else the git remote 'origin'; none known: no links)")
    parser.add_argument("--sync-colab-cells", action="store_true",
                        help="write the Colab cell for --repository into every notebook, and stop")
    args = parser.parse_args(argv)
    if args.sync_colab_cells:
        print("changed:", launch.sync_colab_cells(repository=launch.repository_url(args.repository)) or "none")
        return
    report_d = build_site(args.out, args.executed, args.mode == "fast", args.jobs, repository=args.repository)
    print(f"launch links: {report_d['repository'] or 'none (no repository address known: --repository)'}")
    for name, seconds in report_d["notebook_seconds"].items():
        print(f"{name}: executed in {seconds:.0f} s" if seconds else f"{name}: taken from {args.executed}")
    print(f"site: {report_d['html_dir'] / 'index.html'} ({report_d['size_bytes'] / 1e6:.1f} MB; notebooks "
          f"{report_d['execute_s']:.0f} s, sphinx {report_d['sphinx_s']:.0f} s)")


if __name__ == "__main__":
    main()
