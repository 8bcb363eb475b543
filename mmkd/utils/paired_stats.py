"""Paired per-seed differences with a t confidence interval, and the teacher gate.

The evidence protocol of mmkd's benchmarks (``tools/benchmarks/cls_evidence.py``,
``tools/benchmarks/dense_evidence.py``): every method is trained with the same seeds as
its baseline, and its effect is the mean of the per-seed differences
``d_s = acc(method, s) - acc(baseline, s)`` with a two-sided Student-t interval::

    mean(d) +- t_{1 - a/2, n - 1} * sd(d) / sqrt(n)        (sd with n - 1 in the divisor)

which is what a paired t-test inverts: the interval excludes 0 exactly when the paired
test rejects "no effect" at level ``a``. Pairing by seed removes the part of the
seed-to-seed spread that a method and its baseline share (initialisation, data order).
"""
import math
import statistics
from typing import Dict, Optional, Sequence

# two-sided 95 % critical values of Student's t, by degrees of freedom
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
         8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145,
         15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060,
         30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t_critical(df: int, confidence: float = 0.95) -> float:
    """Two-sided critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f'a t interval needs at least 2 paired values (df >= 1), got '
                         f'df={df}')
    try:  # exact where SciPy is installed
        from scipy.stats import t
        return float(t.ppf(0.5 + confidence / 2, df))
    except (ImportError, AttributeError):  # absent, or built for another numpy
        pass
    if confidence != 0.95:
        raise ValueError('without SciPy only the 95 % interval is tabulated')
    if df in _T975:
        return _T975[df]
    lower = max(k for k in _T975 if k < df) if df < 120 else 120
    return _T975[lower] if df < 120 else 1.960


def paired_difference(method: Sequence[float], baseline: Sequence[float],
                      confidence: float = 0.95) -> Dict[str, float]:
    """Mean per-seed difference ``method - baseline`` and its t interval.

    Both sequences are indexed by seed (same order, same length >= 2). Returns ``mean``,
    ``half_width`` (the +- of the interval), ``low``, ``high``, ``sd``, ``n`` and the
    per-seed ``diffs``.
    """
    if len(method) != len(baseline):
        raise ValueError(f'paired values need one baseline per seed: got {len(method)} '
                         f'method values and {len(baseline)} baseline values')
    diffs = [float(m) - float(b) for m, b in zip(method, baseline)]
    n = len(diffs)
    if n < 2:
        raise ValueError(f'a paired interval needs at least 2 seeds, got {n}')
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs)
    half = t_critical(n - 1, confidence) * sd / math.sqrt(n)
    return dict(mean=mean, half_width=half, low=mean - half, high=mean + half, sd=sd,
                n=n, diffs=diffs)


def format_difference(d: Dict[str, float], digits: int = 1) -> str:
    """``'+2.1 ± 0.9'`` (mean and half-width of the interval)."""
    return f'{d["mean"]:+.{digits}f} ± {d["half_width"]:.{digits}f}'


def verdict(d: Dict[str, float]) -> str:
    """``'better'`` / ``'worse'`` when the interval excludes 0, else ``'no difference
    resolved'``."""
    if d['low'] > 0:
        return 'better'
    if d['high'] < 0:
        return 'worse'
    return 'no difference resolved'


def paired_ratio(method: Sequence[float], baseline: Sequence[float],
                 confidence: float = 0.95) -> Dict[str, float]:
    """Mean per-seed ratio ``method / baseline`` and its t interval.

    For claims stated as a fraction of the baseline ("soft targets alone reach at least
    0.8x the hard-label student"): the per-seed ratios ``r_s = m_s / b_s`` get the same
    mean and two-sided Student-t interval as :func:`paired_difference` gives differences
    (pairing by seed as there). Returns ``mean``, ``half_width``, ``low``, ``high``,
    ``sd``, ``n`` and the per-seed ``ratios``. A baseline of 0 has no ratio (ValueError).
    """
    if len(method) != len(baseline):
        raise ValueError(f'paired values need one baseline per seed: got {len(method)} '
                         f'method values and {len(baseline)} baseline values')
    if any(float(b) == 0 for b in baseline):
        raise ValueError('a ratio to a baseline of 0 is undefined')
    ratios = [float(m) / float(b) for m, b in zip(method, baseline)]
    d = paired_difference(ratios, [0.0] * len(ratios), confidence)
    d['ratios'] = d.pop('diffs')
    return d


def ratio_verdict(r: Dict[str, float], claim: float) -> str:
    """Whether a :func:`paired_ratio` interval lies above or below ``claim``."""
    if r['low'] >= claim:
        return f'>= {claim:g}x resolved'
    if r['high'] < claim:
        return f'< {claim:g}x resolved'
    return f'{claim:g}x not resolved'


_GATE_HINT = ('Train the teacher longer (--teacher-epochs) or on more data '
              '(--per-class)')


def teacher_gate(teacher_acc: float, baseline_accs: Sequence[float],
                 min_gap: float, hint: Optional[str] = None) -> Optional[str]:
    """None when the teacher beats the median student baseline by ``min_gap`` points,
    else the reason the student grid must not run (ending with ``hint``: what to
    change)."""
    base = statistics.median(baseline_accs)
    gap = teacher_acc - base
    if gap >= min_gap:
        return None
    return (f'teacher gate failed: the teacher scores {teacher_acc:.2f} on its own '
            f'modality against the student baseline\'s median {base:.2f} (gap '
            f'{gap:+.2f} points, the gate asks for >= {min_gap:g}); a teacher this close '
            f'to its student cannot show a distillation effect. {hint or _GATE_HINT}')


def teacher_gate_ratio(teacher_score: float, baseline_scores: Sequence[float],
                       min_ratio: float, hint: Optional[str] = None) -> Optional[str]:
    """The gate as a ratio (detection: the teacher's mAP at least ``min_ratio`` times
    the median of the student baseline's): None when it passes, else the reason."""
    base = statistics.median(baseline_scores)
    ratio = teacher_score / base if base > 0 else math.inf
    if ratio >= min_ratio:
        return None
    return (f'teacher gate failed: the teacher scores {teacher_score:.2f} against the '
            f'student baseline\'s median {base:.2f} ({ratio:.2f}x, the gate asks for '
            f'>= {min_ratio:g}x); a teacher this close to its student cannot show a '
            f'distillation effect. {hint or _GATE_HINT}')
