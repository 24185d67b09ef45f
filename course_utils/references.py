"""The course's bibliography and glossary: one source for every "Further reading" and every glossary link.

- ``docs/bibliography.yaml``: one entry per key (``Bittner2017``), with ``authors``, ``title``, ``venue``,
  ``year`` and a ``doi`` or ``url``. Notebooks cite ``[Bittner2017]``; their "Further reading" cell lists
  ``format_reference(key)`` for each key it gives.
- ``docs/glossary.md``: one ``### Term`` heading per word; notebooks link ``../docs/glossary.md#term``.

``tests/test_references.py`` checks that every cited key exists, that every "Further reading" line is the
bibliography's text, and that every glossary link lands on a heading.
"""

import re
from pathlib import Path

import yaml

from course_utils import runtime

CITATION_PATTERN = re.compile(r"\[([A-Z][A-Za-z]+\d{4}[a-z]?)\]")
GLOSSARY_LINK_PATTERN = re.compile(r"\]\((?:\.\./)?docs/glossary\.md#([^)\s]+)\)")
FIELD_L = ("authors", "title", "venue", "year")


def bibliography_path():
    return runtime.project_dir() / "docs" / "bibliography.yaml"


def glossary_path():
    return runtime.project_dir() / "docs" / "glossary.md"


def load_bibliography(path=None):
    """Every entry of the bibliography: dict key -> dict of fields. A missing field is an error naming the key."""
    path = Path(path or bibliography_path())
    bibliography_d = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, entry in bibliography_d.items():
        missing_l = [field for field in FIELD_L if field not in entry]
        if missing_l or not ({"doi", "url"} & set(entry)):
            raise ValueError(f"{path}: entry '{key}' lacks {', '.join(missing_l) or 'a doi or a url'}")
    return bibliography_d


def format_reference(key, bibliography_d=None):
    """One reference as printed in a "Further reading" list: authors (year). Title. Venue. DOI or URL."""
    bibliography_d = bibliography_d or load_bibliography()
    if key not in bibliography_d:
        raise KeyError(f"'{key}' is not in {bibliography_path()}; add it there first")
    entry = bibliography_d[key]
    link = f"https://doi.org/{entry['doi']}" if "doi" in entry else entry["url"]
    return f"{entry['authors']} ({entry['year']}). *{entry['title']}*. {entry['venue']}. <{link}>"


def heading_anchor(heading):
    """The anchor of a markdown heading as GitHub and Jupyter make it: lower case, spaces to '-', no punctuation."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_anchors(path=None):
    """The anchors of the glossary's terms (its ``###`` headings)."""
    text = Path(path or glossary_path()).read_text(encoding="utf-8")
    return {heading_anchor(line[4:]) for line in text.splitlines() if line.startswith("### ")}
