"""The evidence protocol's statistics: paired per-seed differences, t intervals, the
teacher gate (mmkd.utils.paired_stats)."""
import math
import statistics

import pytest

from mmkd.utils.paired_stats import (
    format_difference,
    paired_difference,
    paired_ratio,
    ratio_verdict,
    t_critical,
    teacher_gate,
    teacher_gate_ratio,
    verdict,
)


def test_t_critical_values():
    assert t_critical(2) == pytest.approx(4.303, abs=2e-3)
    assert t_critical(9) == pytest.approx(2.262, abs=2e-3)
    assert t_critical(1000) == pytest.approx(1.96, abs=5e-3)
    with pytest.raises(ValueError, match='at least 2'):
        t_critical(0)


def test_paired_difference_is_the_paired_t_interval():
    method, base = [41.0, 42.5, 42.0], [39.0, 40.0, 40.5]
    d = paired_difference(method, base)
    diffs = [2.0, 2.5, 1.5]
    assert d['diffs'] == diffs and d['n'] == 3
    assert d['mean'] == pytest.approx(statistics.fmean(diffs))
    half = 4.303 * statistics.stdev(diffs) / math.sqrt(3)
    assert d['half_width'] == pytest.approx(half, rel=1e-3)
    assert d['low'] == pytest.approx(d['mean'] - d['half_width'])
    assert verdict(d) == 'better'
    assert format_difference(d) == f'+{d["mean"]:.1f} ± {d["half_width"]:.1f}'


def test_pairing_removes_the_shared_seed_spread():
    # a constant +1 on top of a large seed-to-seed spread: unpaired it would be noise,
    # paired it is resolved exactly
    base = [30.0, 45.0, 38.0]
    d = paired_difference([b + 1 for b in base], base)
    assert d['half_width'] == pytest.approx(0.0) and verdict(d) == 'better'


def test_verdicts_and_input_checks():
    assert verdict(paired_difference([1, 2, 3], [2, 1, 3])) == 'no difference resolved'
    assert verdict(paired_difference([1, 2, 3], [3, 4, 5.5])) == 'worse'
    with pytest.raises(ValueError, match='one baseline per seed'):
        paired_difference([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match='at least 2 seeds'):
        paired_difference([1], [2])


def test_teacher_gate():
    assert teacher_gate(60.0, [40.0, 52.0, 41.0], 8) is None  # 60 - 41 = 19
    reason = teacher_gate(45.0, [40.0, 39.0, 41.0], 8)
    assert 'gate failed' in reason and '+5.00' in reason and '>= 8' in reason


def test_teacher_gate_hint_names_what_to_change():
    reason = teacher_gate(45.0, [40.0, 39.0, 41.0], 8, hint='Train it for more iterations')
    assert reason.endswith('Train it for more iterations')


def test_teacher_gate_ratio():
    # detection: the teacher's mAP at least 1.5x the hard-only student's median
    assert teacher_gate_ratio(15.0, [9.0, 10.0, 11.0], 1.5) is None  # 15 / 10 = 1.5
    reason = teacher_gate_ratio(12.0, [9.0, 10.0, 11.0], 1.5)
    assert 'gate failed' in reason and '1.20x' in reason and '>= 1.5x' in reason
    assert teacher_gate_ratio(1.0, [0.0, 0.0, 0.0], 1.5) is None  # any teacher beats 0


def test_paired_ratio_is_the_t_interval_of_the_per_seed_ratios():
    soft, hard = [8.0, 9.0, 10.0], [10.0, 10.0, 10.0]
    r = paired_ratio(soft, hard)
    assert r['ratios'] == [0.8, 0.9, 1.0] and r['n'] == 3
    assert r['mean'] == pytest.approx(0.9)
    assert r['half_width'] == pytest.approx(4.303 * 0.1 / math.sqrt(3), rel=1e-3)
    assert ratio_verdict(r, 0.8) == '0.8x not resolved'
    assert ratio_verdict(paired_ratio([9, 9.5, 9.2], [10, 10, 10]), 0.8) == \
        '>= 0.8x resolved'
    assert ratio_verdict(paired_ratio([5, 5.5, 5.2], [10, 10, 10]), 0.8) == \
        '< 0.8x resolved'
    with pytest.raises(ValueError, match='baseline of 0'):
        paired_ratio([1, 2], [1, 0])
