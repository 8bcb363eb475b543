"""model-index.yml, the metafiles it imports, the package that carries them and what
`mim search mmkd` makes of them.

mim reads `<installed mmkd>/.mim/model-index.yml` (setup.py copies configs/ and
model-index.yml there at install time), never the checkout: the last test runs the venv's
`mim` against the installed package, which `make test` / tools/setup_env.sh reinstall.
"""
import glob
import json
import math
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import zipfile

import pytest
import yaml
from conftest import REPO

INDEX = osp.join(REPO, 'model-index.yml')
MODEL_KEYS = ('Name', 'In Collection', 'Config', 'Metadata', 'Results')


def _load(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def _metafiles():
    return _load(INDEX)['Import']


def _models():
    return [(mf, m) for mf in _metafiles() for m in _load(osp.join(REPO, mf))['Models']]


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def test_model_index_imports_one_metafile_per_method():
    imported = _metafiles()
    assert len(imported) == len(set(imported))
    methods = sorted(osp.relpath(osp.dirname(p), REPO)
                     for p in glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))
    assert methods, 'no method folders found'
    for method in methods:
        assert f'{method}/metafile.yml' in imported, f'model-index.yml lacks {method}'
    on_disk = {osp.relpath(p, REPO) for p in
               glob.glob(osp.join(REPO, 'configs', '**', 'metafile.yml'), recursive=True)}
    assert set(imported) == on_disk


@pytest.mark.parametrize('metafile', _metafiles())
def test_metafile_follows_the_openmmlab_schema(metafile):
    meta = _load(osp.join(REPO, metafile))
    assert set(meta) == {'Collections', 'Models'}, metafile
    collections = {}
    for coll in meta['Collections']:
        assert coll['Name'] and coll['Name'] not in collections
        paper = coll['Paper']
        assert paper['Title'] and paper['URL'].startswith('https://'), coll['Name']
        assert osp.isfile(osp.join(REPO, coll['README'])), coll['README']
        collections[coll['Name']] = coll
    assert meta['Models'], f'{metafile} lists no model'
    for model in meta['Models']:
        name = model.get('Name')
        for key in MODEL_KEYS:
            assert key in model, f'{metafile}: {name} has no {key!r}'
        assert model['In Collection'] in collections, name
        cfg = model['Config']
        assert osp.isfile(osp.join(REPO, cfg)), f'{metafile}: {name}: {cfg} does not exist'
        assert name == osp.splitext(osp.basename(cfg))[0], (name, cfg)
        assert cfg.startswith(osp.dirname(metafile) + '/'), (metafile, cfg)
        if 'Paper' in model:
            assert model['Paper']['Title'] and model['Paper']['URL'].startswith('https://')
        notes = model['Metadata'].get('Notes', '')
        assert isinstance(model['Results'], list), name
        if not model['Results']:  # nothing measured: say so, put no number
            assert 'not measured' in notes, f'{name}: no Results and no note saying why'
        for result in model['Results']:
            assert set(result) == {'Task', 'Dataset', 'Metrics'}, name
            assert isinstance(result['Task'], str) and isinstance(result['Dataset'], str)
            assert result['Metrics'], f'{name}: empty Metrics'
            for metric, value in result['Metrics'].items():
                assert _is_number(value), f'{metafile}: {name}: {metric} = {value!r}'
                assert '(' not in metric  # mim reads "(...)" in a key as a unit


def test_model_names_are_unique_and_kd_has_its_measured_number():
    names = [m['Name'] for _, m in _models()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    kd = {m['Name']: m for mf, m in _models() if mf == 'configs/kd/metafile.yml'}
    # configs/kd/evidence-synthetic/results.json: the demo's few-label KD, median of seeds
    top1 = kd['kd_resnet34_resnet18-w32_synthetic-sar-10shot']['Results'][0]['Metrics']
    assert top1 == {'Top 1 Accuracy': 51.95}


def _summary_numbers(node):
    """What a results.json says a config scored: each run's value (``acc`` / ``value``
    under a seed key), the median of a row's seeds, a teacher's value."""
    if not isinstance(node, dict):
        if isinstance(node, list):
            for v in node:
                yield from _summary_numbers(v)
        return
    per_seed = [v.get('acc', v.get('value')) for k, v in node.items()
                if k.isdigit() and isinstance(v, dict)]
    per_seed = [v for v in per_seed if _is_number(v)]
    if per_seed:
        yield from per_seed
        yield statistics.median(per_seed)
    teacher = node.get('teacher')
    if isinstance(teacher, dict) and _is_number(teacher.get('acc', teacher.get('value'))):
        yield teacher.get('acc', teacher.get('value'))
    for t in (node.get('teachers') or {}).values():  # a table with several teachers
        if isinstance(t, dict) and _is_number(t.get('acc', t.get('value'))):
            yield t.get('acc', t.get('value'))
    for v in node.values():
        yield from _summary_numbers(v)


@pytest.mark.parametrize('metafile', _metafiles())
def test_every_result_is_in_a_committed_results_file(metafile):
    """A number in Results is one the folder's evidence*/results.json holds (a run, the
    median over seeds or the teacher), at the metafile's rounding: nothing copied from
    prose or estimated. Where no results file measured a config, Results is empty."""
    folder = osp.join(REPO, osp.dirname(metafile))
    measured = []
    for path in glob.glob(osp.join(folder, 'evidence*', 'results.json')):
        with open(path) as f:
            measured += list(_summary_numbers(json.load(f)))
    for model in _load(osp.join(REPO, metafile))['Models']:
        for result in model['Results']:
            for metric, value in result['Metrics'].items():
                assert any(round(x, 2) == value or round(x, 1) == value for x in measured), (
                    f"{metafile}: {model['Name']}: {metric} = {value} is in no committed "
                    f"{osp.dirname(metafile)}/evidence*/results.json")


def test_modelindex_library_reads_it():
    """The reader mim uses (model-index) finds every model, with no check errors."""
    load = pytest.importorskip('modelindex.load_model_index').load
    mi = load(INDEX)
    assert sorted(m.name for m in mi.models) == sorted(m['Name'] for _, m in _models())
    # model-index resolves README against the metafile's folder; OpenMMLab's metafiles
    # (and mim) give it from the repository root, as these do (checked in the schema test)
    errors = [e for e in mi.check(silent=True) if 'Path to README file' not in e]
    assert not errors, errors


# ----------------------------------------------------------------------------- packaging
def _source_copy(dst):
    """What pip sees of the checkout: the tracked sources, no build leftovers."""
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), dst)
    for name in ('requirements', 'mmkd', 'configs', 'tools'):
        shutil.copytree(osp.join(REPO, name), osp.join(dst, name), ignore=ignore)


def _wheel_names(wheel_dir):
    wheels = glob.glob(osp.join(wheel_dir, 'mmkd-*.whl'))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as z:
        return set(z.namelist())


@pytest.mark.parametrize('route', ['directory', 'sdist'])
def test_wheel_carries_model_index_metafiles_and_configs(tmp_path, route):
    """`pip install .` (directory) and an install from the sdist both put model-index.yml,
    every metafile and every config a metafile names under mmkd/.mim/."""
    pytest.importorskip('setuptools')
    pytest.importorskip('wheel')
    src = tmp_path / 'src'
    src.mkdir()
    _source_copy(str(src))
    target = str(src)
    env = dict(os.environ, PIP_NO_INPUT='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    if route == 'sdist':
        out = subprocess.run([sys.executable, 'setup.py', '-q', 'sdist', '-d',
                              str(tmp_path / 'sdist')], cwd=str(src), env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
        target, = glob.glob(str(tmp_path / 'sdist' / 'mmkd-*.tar.gz'))
    out = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
                          '--no-build-isolation', '-w', str(tmp_path / 'wheel'), target],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    names = _wheel_names(str(tmp_path / 'wheel'))
    wanted = ['model-index.yml'] + _metafiles() + [m['Config'] for _, m in _models()]
    missing = [p for p in wanted if f'mmkd/.mim/{p}' not in names]
    assert not missing, f'the wheel ({route}) lacks under mmkd/.mim/: {missing}'


# ---------------------------------------------------------------------------- mim search
def _installed_mmkd(venv_bin, cwd):
    """The mmkd the venv imports when the checkout is not on the path (what mim sees)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    out = subprocess.run([osp.join(venv_bin, 'python'), '-c',
                          'import os, mmkd; print(os.path.dirname(mmkd.__file__))'],
                         cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.fail('mmkd is not installed in the venv (run tools/setup_env.sh, or '
                    f'pip install --no-deps --no-build-isolation .): {out.stderr[-1000:]}')
    return out.stdout.strip().splitlines()[-1], env


def _same_file(a, b):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def test_mim_search_lists_every_metafile_model(venv_bin, tmp_path):
    mim = osp.join(venv_bin, 'mim')
    if not osp.isfile(mim):
        pytest.skip(f'openmim is not installed in this environment (no {mim})')
    pkg, env = _installed_mmkd(venv_bin, str(tmp_path))
    assert not osp.realpath(pkg).startswith(osp.realpath(REPO) + os.sep + 'mmkd'), (
        f'mmkd is imported from the checkout ({pkg}), an editable install mim cannot read: '
        'pip install --no-deps --no-build-isolation .')
    stale = [p for p in ['model-index.yml'] + _metafiles()
             if not osp.isfile(osp.join(pkg, '.mim', p))
             or not _same_file(osp.join(pkg, '.mim', p), osp.join(REPO, p))]
    assert not stale, (f'the installed mmkd ({pkg}/.mim) lacks or has other copies of '
                       f'{stale}: reinstall it (tools/setup_env.sh, or pip install --no-deps '
                       '--no-build-isolation .)')
    proc = subprocess.run([mim, 'search', 'mmkd'], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    blocks = {}  # config id -> its printed block
    for block in out.split('config id:')[1:]:
        name, _, body = block.partition('\n')
        blocks[name.strip()] = body
    models = [m for _, m in _models()]
    missing = [m['Name'] for m in models if m['Name'] not in blocks]
    assert not missing, f'mim search mmkd does not list {missing}:\n{out[-3000:]}'
    # the printed table cuts long values (pandas' column width); --json has them whole
    json_path = tmp_path / 'search.json'
    proc = subprocess.run([mim, 'search', 'mmkd', '--json', str(json_path)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    with open(json_path) as f:
        table = json.load(f)  # column -> {config id: value}
    for m in models:
        name = m['Name']
        assert table['config'][name] == m['Config'], name
        for result in m['Results']:
            for metric, value in result['Metrics'].items():
                # mim's column: '<dataset>/<metric>', lowercased, spaces in the metric as _
                column = f"{result['Dataset'].lower()}/{'_'.join(metric.split()).lower()}"
                assert table[column][name] == value, (name, column)
                assert f'{column}' in blocks[name] and f'{value}' in blocks[name], (
                    name, column, blocks[name])
