"""How the shipped configs are layered, and the tool that checks a refactoring of them
(tools/misc/dump_merged_configs.py) tells apart what it must."""
import glob
import importlib.util
import os.path as osp

from conftest import REPO


def _dump_tool():
    path = osp.join(REPO, 'tools', 'misc', 'dump_merged_configs.py')
    spec = importlib.util.spec_from_file_location('_dump_merged_configs', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_no_config_reads_an_environment_variable():
    """The file alone decides the run: no mmengine {{$VAR:default}} substitution."""
    readers = [osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True) if '{{$' in open(p).read()]
    assert not readers, readers


def test_no_config_writes_out_the_shipped_hooks():
    """The ExportStudent / TeacherHash / RNGState trio is listed once, in
    configs/_base_/kd_hooks.py; configs name that base (or a parent that does)."""
    copies = []
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True):
        text = ' '.join(open(p).read().split())
        if ("dict(type='mmkd.ExportStudentHook'), dict(type='mmkd.TeacherHashHook'), "
                "dict(type='mmkd.RNGStateHook')]") in text:
            copies.append(osp.relpath(p, REPO))
    assert copies == ['configs/_base_/kd_hooks.py']


def test_the_merged_config_dump_tells_order_and_tuples_apart():
    tool = _dump_tool()
    canon = tool.canonical
    assert canon(dict(a=1, b=2)) != canon(dict(b=2, a=1))      # build order of losses
    assert canon((8, 16)) != canon([8, 16])
    assert canon({'x': [dict(k=(1, 2))]}) == canon({'x': [dict(k=(1, 2))]})
    assert canon(osp.join(tool.REPO, 'configs', 'a.py')) == '<repo>/configs/a.py'
    before = {'model': canon(dict(a=1)), 'custom_hooks': canon([1])}
    # the top level compares as a set of keys, every value exactly
    assert tool.differences(before, dict(reversed(list(before.items())))) == []
    assert tool.differences(before, {'model': canon(dict(a=2))}) == ['custom_hooks',
                                                                       'model']
