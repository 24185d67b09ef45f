"""The pages of the course's website that are written from README.md and the notebooks: the landing page
(README's own sections, the table of notebooks with launch links), the results table, the bibliography.

Used by ``course_utils.tools.website``, which executes the notebooks and runs Sphinx.
"""
import re

from course_utils import references
from course_utils.tools import launch


def readme_sections(readme_text):
    """README.md cut at its ``## `` headings: dict heading -> its text (the heading line excluded); the text before
    the first one is under the title (``# ...``)."""
    section_d, heading, line_l = {}, None, []
    for line in readme_text.splitlines():
        if line.startswith("# ") and heading is None and not section_d:
            heading = line[2:].strip()
            continue
        if line.startswith("## "):
            section_d[heading] = "\n".join(line_l).strip()
            heading, line_l = line[3:].strip(), []
            continue
        line_l.append(line)
    section_d[heading] = "\n".join(line_l).strip()
    return section_d


def readme_section(readme_text, heading_start):
    """(heading, text) of the README section whose heading starts with ``heading_start``; an error lists the
    headings there are."""
    section_d = readme_sections(readme_text)
    for heading, text in section_d.items():
        if heading and heading.startswith(heading_start):
            return heading, text
    raise ValueError(f"README.md has no section '## {heading_start}...'; its sections: {[h for h in section_d if h]}")


def first_markdown_table(text):
    """The lines of the first markdown table in ``text`` (a run of lines starting with '|')."""
    line_l = text.splitlines()
    start = next((i for i, line in enumerate(line_l) if line.startswith("|")), None)
    if start is None:
        raise ValueError("no markdown table in the text")
    end = next((i for i in range(start, len(line_l)) if not line_l[i].startswith("|")), len(line_l))
    return line_l[start:end]


def table_rows(table_line_l):
    """The cells of a markdown table, header first and the ``---`` line left out: list of lists of str."""
    row_l = []
    for line in table_line_l:
        cell_l = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-{3,}:?", cell) for cell in cell_l):
            continue
        row_l.append(cell_l)
    return row_l


def results_table_lines(readme_text):
    """The results table of README.md (the first table of its '## Results' section), as its lines."""
    return first_markdown_table(readme_section(readme_text, "Results")[1])


def notebook_title(path):
    """The first '# ' heading of a notebook."""
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        for line in cell.source.splitlines():
            if cell.cell_type == "markdown" and line.startswith("# "):
                return line[2:].strip()
    raise ValueError(f"{path}: no '# ' title in any markdown cell")


EXECUTED_IN_D = {
    "fast": "in **fast mode** (the test run: the `small` dataset, short trainings), so their printed scores are "
            "lower than in the results table below, which comes from the default mode",
    "default": "in the **default mode** (the `full` dataset, the trainings whose results are in the table below)",
}


def notebook_table_lines(notebook_path_l, repository=None):
    """The landing page's table of notebooks, one Markdown line per row, with Colab and Binder links when the
    ``repository`` is known."""
    line_l = ["| notebook | run it |", "| --- | --- |"] if repository else ["| notebook |", "| --- |"]
    for path in notebook_path_l:
        run_it = (f" [Colab]({launch.colab_url(path.name, repository)}) · [Binder]"
                  f"({launch.binder_url(path.name, repository)}) |") if repository else ""
        line_l.append(f"| [{notebook_title(path)}](notebooks/{path.name}) |{run_it}")
    return line_l


def landing_page_markdown(readme_text, notebook_path_l, executed_in="fast", repository=None):
    """``index.md``: what the course teaches, the notebooks (with launch links when the ``repository`` is known),
    how to install, the results.

    The texts are README.md's own sections, copied: the site and the README cannot say different things.
    ``executed_in`` ('fast' or 'default') says on the page in which mode its notebooks were run.
    """
    title = next(line[2:].strip() for line in readme_text.splitlines() if line.startswith("# "))
    intro = readme_sections(readme_text)[title]
    quick_heading, quick_start = readme_section(readme_text, "Quick start")
    notebook_heading, notebook_text = readme_section(readme_text, "The notebooks")
    results_heading, results_text = readme_section(readme_text, "Results")
    launch_l = notebook_table_lines(notebook_path_l, repository)
    toc = "\n".join(f"notebooks/{path.stem}" for path in notebook_path_l)
    open_one = "open one in Colab or Binder, or " if repository else "or "
    return f"""# {title}

{intro}

## Start here

Read the notebooks below as pages, with their figures and sound, {open_one}install the course on your machine
(next section). The pages were executed {EXECUTED_IN_D[executed_in]}.

{chr(10).join(launch_l)}

```{{toctree}}
:maxdepth: 1
:caption: Notebooks
:hidden:

{toc}
```

```{{toctree}}
:maxdepth: 1
:caption: Reference
:hidden:

docs/glossary
docs/bibliography
```

## {quick_heading}

{quick_start}

## {notebook_heading}

{notebook_text}

## {results_heading}

{results_text}

See also the [glossary](docs/glossary.md) and the [bibliography](docs/bibliography.md).
"""


def bibliography_markdown(bibliography_d=None):
    """``docs/bibliography.md``: every reference of the course, by key, each with an anchor of its key."""
    bibliography_d = bibliography_d or references.load_bibliography()
    line_l = ["# Bibliography", "", "Every reference of the notebooks (from `docs/bibliography.yaml`), by key.", ""]
    for key in sorted(bibliography_d):
        line_l += [f"({key.lower()})=", f"### {key}", references.format_reference(key, bibliography_d), ""]
    return "\n".join(line_l)


# ---------------------------------------------------------------- executed notebooks
