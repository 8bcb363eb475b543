"""The code passes its own lint settings (pyproject.toml: ruff's pycodestyle, pyflakes and
isort rules, 100-character lines), as the pre-commit hook checks on each commit.

Installed with the test requirements (requirements/tests.txt), so CI runs it;
skipped where ruff is absent.
"""
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from conftest import REPO


def _ruff():
    found = shutil.which('ruff') or osp.join(osp.dirname(sys.executable), 'ruff')
    return found if osp.isfile(found) else None


def test_ruff_finds_nothing():
    ruff = _ruff()
    if ruff is None:
        pytest.skip('ruff is not installed (pip install -r requirements/dev.txt)')
    proc = subprocess.run([ruff, 'check', '--no-cache', '--output-format', 'concise', '.'],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_the_line_limit_is_stated_once():
    """pyproject.toml states the limit docs/contributing.md names."""
    with open(osp.join(REPO, 'pyproject.toml')) as f:
        assert 'line-length = 100' in f.read()
    with open(osp.join(REPO, 'docs', 'contributing.md')) as f:
        assert 'at most 100 characters' in f.read()
