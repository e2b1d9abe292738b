"""Sphinx settings of the course's website (make book; helpers/book.py stages the pages it reads)."""

project = "PyTorch from first principles"
author = "the course's authors"
copyright = "the course's authors"
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["student/*"]  # the student notebooks the pages link to for download
language = "en"

# The stored outputs are the page: strict nbval proves them, so nothing is re-executed.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN: an explorer shows its stored picture
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_update_mathjax = False  # its settings are MathJax 3's; the site serves MathJax 2 (below)
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]  # helpers/book.py adds _static/mathjax
html_css_files = ["book.css"]
html_copy_source = False  # each page links its student notebook instead
html_show_sourcelink = False
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# Light or dark as the reader's system asks (without it the theme logs a console error on each page).
html_context = {"default_mode": "auto"}
# MathJax from the site's folder (jupyter-server-mathjax's copy of MathJax 2), never from a CDN.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processRefs": False, "processEnvironments": False},
    "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web", "webFont": "STIX-Web", "imageFont": None,
                 # its font-loading probe is url('about:blank'), which Chromium refuses with a console error
                 "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}}},
    "fast-preview": {"disabled": True},  # typeset once, in HTML-CSS, not first in a rough preview
    "menuSettings": {"zoom": "None"},
}
