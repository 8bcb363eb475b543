"""Sphinx configuration of the mmkd documentation site (``make docs``).

The source directory is the repository root, not docs/: each method README
(``configs/<method>/README.md``) is a page of the site at its own path, so its relative
links and images (``evidence/accuracy.png``) resolve here exactly as they do on GitHub,
with nothing copied or rewritten. ``include_patterns`` keeps the site to docs/ and those
READMEs. The top-level README.md is pulled, section by section, into the landing and
getting-started pages by ``{include}`` (its relative links re-based onto docs/ on the way,
see ``_readme_links_from_docs``), so the site says what the README says.

Build (the Makefile's ``docs`` target runs this, warnings are errors)::

    python -m sphinx -W --keep-going -b html -c docs . docs/_build/html

Everything it needs is in requirements/docs.txt; nothing is fetched while building or
reading the site (MathJax is served from the site itself, no intersphinx).
"""
import os
import os.path as osp
import re
import sys

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)
# Document this checkout's mmkd, not a copy installed (non-editable) in the environment.
sys.path.insert(0, ROOT)

import mmkd  # noqa: E402

project = 'mmkd'
author = 'the mmkd authors'
copyright = author
version = release = mmkd.__version__

extensions = [
    'myst_parser',           # the Markdown pages and READMEs
    'sphinx.ext.autodoc',    # the API reference, from the docstrings
    'sphinx.ext.napoleon',   # their Google style (Args:, Returns:)
    'sphinx.ext.mathjax',    # their `.. math::` formulas, rendered by a local MathJax
]

root_doc = 'docs/index'
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
include_patterns = [
    'docs/**',
    'configs/*/README.md',
    # tables the evidence tools write beside a README, linked from it
    'configs/*/evidence*/*.md',
]
# Prune the walk: every top-level entry but docs/ and configs/ (the environment, work
# dirs and data may hold many files), and the build output.
exclude_patterns = sorted(
    name for name in os.listdir(ROOT) if name not in ('docs', 'configs')) + [
        'docs/_build', 'docs/_extra', '**/__pycache__']
templates_path = []

# -- MyST (Markdown) --------------------------------------------------------------------
# GitHub-style anchors for headings up to ### so that `README.md#evidence-protocol`
# links work in the site as on GitHub.
myst_heading_anchors = 3
# Plain CommonMark + tables, the dialect the READMEs are written in for GitHub (their only
# `$` are shell variables inside code, so no dollarmath).
myst_enable_extensions = []

# -- autodoc / napoleon -----------------------------------------------------------------
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
    'member-order': 'bysource',
}
autodoc_typehints = 'signature'
autoclass_content = 'class'
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- HTML -------------------------------------------------------------------------------
html_theme = 'sphinx_rtd_theme'
html_theme_options = {'navigation_depth': 3, 'collapse_navigation': False}
html_title = f'mmkd {release}'
html_static_path = []
# docs/_extra/index.html: the site's top-level index.html, which sends the browser to
# docs/index.html (the landing page lives at docs/ because the source is the repo root).
html_extra_path = ['_extra']
html_show_sourcelink = False


def _local_mathjax():
    """MathJax 3 from the sphinx-mathjax-offline package (requirements/docs.txt), copied
    into the site so that formulas render without a network."""
    import importlib.util
    spec = importlib.util.find_spec('sphinx-mathjax-offline')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('sphinx-mathjax-offline is not installed; '
                           'pip install -r requirements/docs.txt')
    static = osp.join(list(spec.submodule_search_locations)[0], 'static')
    if not osp.isfile(osp.join(static, 'mathjax', 'tex-chtml.js')):
        raise RuntimeError(f'no mathjax/tex-chtml.js under {static}')
    return static


html_static_path.append(_local_mathjax())
mathjax_path = 'mathjax/tex-chtml.js'


def _mark_evidence_tables_orphan(app, docname, source):
    """The evidence tables (``configs/<method>/evidence/table.md``) are written by
    tools/benchmarks and reached from their README's links only: mark them orphan so
    they need no toctree entry, without editing the generated files."""
    if docname.startswith('configs/') and '/evidence' in docname:
        if not source[0].startswith('---'):
            source[0] = '---\norphan: true\n---\n' + source[0]


_LINK = re.compile(r'(\]\()([^)\s]+)')
_FENCE = re.compile(r'^\s*(```|~~~)')


def _readme_links_from_docs(app, relative_path, parent_docname, content):
    """README.md is written for GitHub, its relative links and images (``docs/x.md``,
    ``configs/kd/README.md``) relative to the repository root; the pages that include it
    are in docs/. Rewrite those targets relative to docs/ (outside code blocks), so that
    they resolve to the same files in the site."""
    if str(relative_path) != 'README.md':
        return

    def fix(match):
        target = match.group(2)
        if re.match(r'[a-zA-Z][a-zA-Z0-9+.-]*:|#|/', target):  # URL, anchor, absolute
            return match.group(0)
        return match.group(1) + osp.relpath(osp.join(ROOT, target), DOCS)

    lines, in_code = [], False
    for line in content[0].split('\n'):
        if _FENCE.match(line):
            in_code = not in_code
        lines.append(line if in_code else _LINK.sub(fix, line))
    content[0] = '\n'.join(lines)


def setup(app):
    app.connect('source-read', _mark_evidence_tables_orphan)
    app.connect('include-read', _readme_links_from_docs)
