"""The documentation site (``make docs``) builds with warnings as errors and has its pages.

Sphinx runs in a subprocess, as ``make docs`` runs it, into a temporary folder: a broken
link, image, include, toctree entry or docstring (rst) anywhere in the READMEs, docs/ or
the package fails this test with Sphinx's own warning lines.
"""
import glob
import html
import importlib
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO

pytest.importorskip(
    'sphinx', reason='sphinx is not installed, so the documentation site cannot be built: '
    'pip install -r requirements/docs.txt (tools/setup_env.sh installs it)')

# The packages whose __all__ the API reference documents, and the page that does.
API_PAGES = {
    'mmkd.models.distillers': 'distillers',
    'mmkd.apis': 'apis',
    'mmkd.models.losses': 'losses',
    'mmkd.models.connectors': 'models',
    'mmkd.models.data_preprocessors': 'models',
    'mmkd.models.backbones': 'models',
    'mmkd.models.det': 'models',
    'mmkd.models.seg': 'models',
    'mmkd.datasets': 'datasets',
    'mmkd.datasets.transforms': 'transforms',
    'mmkd.engine.hooks': 'hooks',
    'mmkd.evaluation.metrics': 'evaluation',
    'mmkd.utils': 'utils',
    'mmkd.testing': 'testing',
}


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')
    html = out / 'html'
    cmd = [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-b', 'html', '-q',
           '-c', 'docs', '-d', str(out / 'doctrees'), '.', str(html)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    warnings = [line for line in (proc.stdout + proc.stderr).splitlines()
                if 'WARNING' in line or 'ERROR' in line or 'CRITICAL' in line]
    assert proc.returncode == 0 and not warnings, (
        f'sphinx -W failed (exit {proc.returncode}); its warnings:\n' +
        '\n'.join(warnings or (proc.stdout + proc.stderr).splitlines()[-30:]))
    return html


def _read(path):
    assert osp.isfile(path), f'{path} was not built'
    with open(path, encoding='utf-8') as f:
        return f.read()


def _text(path):
    """A page's text as a reader sees it: tags (and code highlighting) removed."""
    return html.unescape(re.sub(r'<[^>]+>', '', _read(path)))


def test_every_page_is_built(site):
    """The landing page, the user guide (every docs/*.md), each method README and the
    API pages exist; the site's own index.html leads to the landing page."""
    assert 'docs/index.html' in _read(site / 'index.html')
    pages = [osp.relpath(p, REPO)[:-3] for p in glob.glob(osp.join(REPO, 'docs', '*.md'))]
    assert {'docs/index', 'docs/getting_started'} <= set(pages)
    pages += [osp.relpath(p, REPO)[:-3]
              for p in glob.glob(osp.join(REPO, 'configs', '*', 'README.md'))]
    pages += [f'docs/api/{page}' for page in set(API_PAGES.values())]
    for page in pages:
        assert osp.isfile(site / f'{page}.html'), f'{page}.html was not built'
    # the README's sections are in the getting-started page, not copied into docs/
    started = _text(site / 'docs' / 'getting_started.html')
    for text in ('make demo', 'mim train mmkd', 'tools/setup_env.sh', 'make docs',
                 'ExportStudentHook'):
        assert text in started, f'getting_started.html lacks {text!r}'
    # every page of the user guide and every method is in the navigation
    index = _read(site / 'docs' / 'index.html')
    for page in set(pages) - {'docs/index'}:
        href = osp.relpath(page, 'docs') + '.html'
        assert f'href="{href}' in index, f'{page} is not in the navigation'


def test_api_reference_documents_every_export(site):
    """Each name a documented package exports has its entry (with its docstring) in the
    API reference: a class without a docstring or a broken import would be missing."""
    for module, page in API_PAGES.items():
        text = _read(site / 'docs' / 'api' / f'{page}.html')
        for name in importlib.import_module(module).__all__:
            assert f'id="{module}.{name}"' in text, f'{module}.{name} is not in {page}.html'
    losses = _read(site / 'docs' / 'api' / 'losses.html')
    assert 'id="mmkd.models.losses.KDLoss"' in losses
    assert 'arXiv:1503.02531' in losses  # the paper of its docstring
    assert re.search(r'class="math[^"]*"[^>]*>\s*\\\[', losses), 'no display formula'


def test_method_readme_links_and_images_resolve(site):
    """The READMEs' relative images and links, written for GitHub, work in the site:
    an image is copied into it, a link to a file becomes a download, one to a Markdown
    file a page and one to a heading an anchor that exists."""
    ds_cmkd = _read(site / 'configs' / 'ds_cmkd' / 'README.html')
    images = re.findall(r'<img[^>]+src="([^"]+)"', ds_cmkd)
    assert any('_images/accuracy' in src for src in images), images
    for src in images:
        assert osp.isfile(osp.normpath(site / 'configs' / 'ds_cmkd' / src)), src
    kd = _read(site / 'configs' / 'kd' / 'README.html')
    downloads = re.findall(r'href="([^"]*_downloads/[^"]+)"', kd)
    assert {osp.basename(d) for d in downloads} >= {'results.json', 'accuracy.png'}
    for href in downloads:
        assert osp.isfile(osp.normpath(site / 'configs' / 'kd' / href)), href
    assert 'href="evidence/table.html"' in kd
    assert osp.isfile(site / 'configs' / 'kd' / 'evidence' / 'table.html')
    # cross-page heading links (docs/evidence.md -> each README's evidence section)
    evidence = _read(site / 'docs' / 'evidence.html')
    links = re.findall(r'href="\.\./(configs/[^"#]+)#([^"]+)"', evidence)
    assert links, 'docs/evidence.md links to no method README section'
    for page, anchor in links:
        assert f'id="{anchor}"' in _read(site / page), f'{page} has no #{anchor}'


def test_site_reads_offline(site):
    """No page loads a script or stylesheet from the network; MathJax is in the site."""
    assert osp.isfile(site / '_static' / 'mathjax' / 'tex-chtml.js')
    for path in glob.glob(str(site / '**' / '*.html'), recursive=True):
        text = _read(path)
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
        remote = [r for r in remote if 'rel="canonical"' not in r]
        assert not remote, f'{os.path.relpath(path, site)} loads {remote}'
