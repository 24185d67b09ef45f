"""Bibliography and glossary: every citation exists, every "Further reading" line is the bibliography's text,
every glossary link lands on a term, and every notebook has its header (prerequisites, study and compute time)."""

import json
import re
from pathlib import Path

import pytest

from course_utils import references

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_L = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _markdown_l(notebook_path):
    cell_l = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cell_l if cell["cell_type"] == "markdown"]


def _further_reading(notebook_path):
    found_l = [text for text in _markdown_l(notebook_path) if text.startswith("## Further reading\n")]
    assert len(found_l) == 1, f"{notebook_path.name}: one 'Further reading' cell expected, found {len(found_l)}"
    return found_l[0]


def test_the_bibliography_loads_and_each_entry_has_a_link():
    bibliography_d = references.load_bibliography()
    assert len(bibliography_d) >= 20
    for key in bibliography_d:
        assert references.format_reference(key, bibliography_d).endswith(">")


def test_an_entry_without_a_link_is_refused_by_name(tmp_path):
    path = tmp_path / "bibliography.yaml"
    path.write_text("Nobody2020:\n  authors: A. Nobody\n  title: T\n  venue: V\n  year: 2020\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Nobody2020.*a doi or a url"):
        references.load_bibliography(path)


def test_an_unknown_key_says_where_to_add_it():
    with pytest.raises(KeyError, match="Unknown1999.*bibliography.yaml"):
        references.format_reference("Unknown1999")


@pytest.mark.parametrize("notebook_path", NOTEBOOK_L, ids=lambda path: path.stem)
def test_every_citation_is_in_the_bibliography_and_in_the_notebooks_further_reading(notebook_path):
    bibliography_d = references.load_bibliography()
    further_reading = _further_reading(notebook_path)
    listed_l = re.findall(r"^- \*\*\[([^\]]+)\]\*\* ", further_reading, flags=re.M)
    assert listed_l, f"{notebook_path.name}: its Further reading lists nothing"
    for key in listed_l:
        assert key in bibliography_d, f"{notebook_path.name}: [{key}] is not in docs/bibliography.yaml"
        assert f"- **[{key}]** {references.format_reference(key, bibliography_d)}" in further_reading, \
            f"{notebook_path.name}: the reference of [{key}] differs from the bibliography's (regenerate it)"
    for text in _markdown_l(notebook_path):
        for key in references.CITATION_PATTERN.findall(text):
            assert key in bibliography_d, f"{notebook_path.name}: [{key}] is not in docs/bibliography.yaml"
            assert key in listed_l, f"{notebook_path.name} cites [{key}] but its Further reading does not list it"


@pytest.mark.parametrize("notebook_path", NOTEBOOK_L, ids=lambda path: path.stem)
def test_every_glossary_link_lands_on_a_term(notebook_path):
    anchor_s = references.glossary_anchors()
    link_l = [anchor for text in _markdown_l(notebook_path)
              for anchor in references.GLOSSARY_LINK_PATTERN.findall(text)]
    assert link_l, f"{notebook_path.name} links no glossary term"
    for anchor in link_l:
        assert anchor in anchor_s, f"{notebook_path.name}: glossary.md#{anchor} is no term of docs/glossary.md"


def test_the_glossary_cites_and_links_only_what_exists():
    text = references.glossary_path().read_text(encoding="utf-8")
    bibliography_d, anchor_s = references.load_bibliography(), references.glossary_anchors()
    for key in references.CITATION_PATTERN.findall(text):
        assert key in bibliography_d, f"glossary.md cites [{key}], which is not in the bibliography"
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in anchor_s, f"glossary.md links #{anchor}, which is no term"


def test_the_heading_anchor_is_githubs():
    assert references.heading_anchor("Log-mel spectrogram") == "log-mel-spectrogram"
    assert references.heading_anchor("P@k") == "pk"
    assert references.heading_anchor("Unit of idx") == "unit-of-idx"


@pytest.mark.parametrize("notebook_path", NOTEBOOK_L, ids=lambda path: path.stem)
def test_each_notebook_header_gives_prerequisites_study_and_compute_time(notebook_path):
    header = _markdown_l(notebook_path)[0]
    assert "**What you will learn**" in header and "**Before you start**" in header
    assert re.search(r"\*\*Time\*\*: about \d+ minutes of study, exercises included\. Compute on a 2-core laptop CPU: "
                     r".*?\d.*? in fast mode \(`COURSE_FAST_MODE=1`, the test run\), .*?\d.*? in the default mode",
                     header), header
