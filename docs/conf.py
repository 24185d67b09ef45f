"""Sphinx settings of the course's website (built by ``python -m course_utils.tools.website``).

The build copies this file into a staging folder that mirrors the repository (``notebooks/``, ``docs/``) and
holds executed notebooks: myst-nb renders them as they are (text, code, printouts, figures, audio players),
it never executes them itself.
"""

project = "Deep learning on music audio"
author = "the course's authors"
copyright = "2026, " + author

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

nb_execution_mode = "off"  # the notebooks arrive executed (fast mode in CI, default mode to publish)
nb_merge_streams = True  # one block per cell for what a cell prints, as in JupyterLab
myst_heading_anchors = 3  # "../docs/glossary.md#patch" lands on the term "### Patch"
myst_enable_extensions = ["colon_fence", "html_image"]
suppress_warnings = [
    "mystnb.unknown_mime_type",  # widget state of tqdm bars: the text version is shown
    "myst.header",  # the glossary's terms are "### " headings under its "# " title
]

html_theme = "sphinx_book_theme"
html_title = project
html_favicon = "favicon.svg"  # docs/favicon.svg, copied beside this file
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,  # the .ipynb of each page
}
html_context = {"default_mode": "light"}  # the theme logs an error when no mode is set
html_show_sourcelink = False
html_last_updated_fmt = None
