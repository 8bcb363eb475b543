"""tools/misc/fault_list.py: every fault that says what its message must contain (the
exception, the file it names, the fix) gets that message when provoked for real, and
the README's troubleshooting table has a row for every fault in the catalogue.

Only the faults with expectations run here (the raster ones: tiny GeoTIFFs, no model),
so this stays fast; ``python tools/misc/fault_list.py --check`` runs them all."""
import importlib.util
import os.path as osp
import re

import pytest
from conftest import REPO

pytest.importorskip('rasterio')


def _catalogue():
    path = osp.join(REPO, 'tools', 'misc', 'fault_list.py')
    spec = importlib.util.spec_from_file_location('mmkd_fault_list', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CATALOGUE = _catalogue()
CHECKED = [(name, fn) for name, _, fn in CATALOGUE.FAULTS if CATALOGUE.EXPECT[name]]


def test_the_raster_faults_are_catalogued_with_expectations():
    names = {name for name, _ in CHECKED}
    assert {'missing_band_file', 'band_pattern_matches_nothing', 'band_not_downloaded',
            'band_sizes_differ', 'footprint_no_overlap', 'footprint_date_tolerance',
            'footprint_without_crs', 'footprint_south_up', 'footprint_without_date',
            'nan_pixels', 'nodata_pixels', 'sar_db_in_db_mode'} <= names


@pytest.mark.parametrize('name,fn', CHECKED, ids=[n for n, _ in CHECKED])
def test_fault_message_names_the_file_and_the_fix(name, fn):
    message, where = CATALOGUE.run(name, fn)
    assert where.startswith('mmkd/'), f'{name}: not raised by mmkd ({where}): {message}'
    assert CATALOGUE.unmet(name, message) == [], message
    short, _ = CATALOGUE.run(name, fn, short=True)  # the README's form
    assert '/tmp' not in short and not re.search(r'tmp\w{8}', short), short


def test_unmet_reports_what_a_message_lacks():
    assert CATALOGUE.unmet('missing_band_file', 'MissingBandError: something') == \
        list(CATALOGUE.EXPECT['missing_band_file'][1:])


def test_readme_table_has_a_row_per_fault():
    text = open(osp.join(REPO, 'README.md'), encoding='utf-8').read()
    section = text.split('## Troubleshooting', 1)[1].split('\n## ', 1)[0]
    causes = [line.split(' | ')[0][2:] for line in section.splitlines()
              if line.startswith('| ') and not line.startswith('| cause |')]
    catalogued = [cause for _, cause, _ in CATALOGUE.FAULTS]
    assert sorted(causes) == sorted(catalogued)
    rows = {line.split(' | ')[0][2:]: line for line in section.splitlines()
            if line.startswith('| ')}
    for name, cause, _ in CATALOGUE.FAULTS:  # the row shows the checked message
        for pattern in CATALOGUE.EXPECT[name][:1]:
            assert re.search(pattern.lstrip('^'), rows[cause].split('`')[1]), cause
