from typing import List, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmkd.registry import HOOKS


def class_weights(counts: Sequence[int], formula: str = 'inverse',
                  beta: float = 0.999) -> List[float]:
    """Class weights from class counts :math:`n_c` (K classes, N samples).

    - ``'inverse'``: :math:`w_c = N / (K n_c)` with K the number of classes present
      (inverse frequency, scikit-learn's "balanced"; the mean weight over training
      samples is 1);
    - ``'inverse_sqrt'``: :math:`w_c \\propto n_c^{-1/2}`, scaled to mean 1 over classes;
    - ``'effective'``: :math:`w_c \\propto (1 - \\beta) / (1 - \\beta^{n_c})` (Cui et al.,
      *Class-Balanced Loss Based on Effective Number of Samples*, CVPR 2019), scaled
      to sum K;
    - ``'none'``: all ones.

    Classes with no training sample get weight 0 (nothing to balance).
    """
    n = np.asarray(counts, dtype=np.float64)
    k, total = len(n), n.sum()
    if total == 0:
        raise ValueError('the training set has no labelled sample to count classes from')
    present = n > 0
    w = np.zeros(k)
    if formula == 'inverse':
        w[present] = total / (present.sum() * n[present])
    elif formula == 'inverse_sqrt':
        w[present] = 1 / np.sqrt(n[present])
        w *= k / w.sum()
    elif formula == 'effective':
        w[present] = (1 - beta) / (1 - beta**n[present])
        w *= k / w.sum()
    elif formula == 'none':
        w[:] = 1.
    else:
        raise ValueError(f"unknown class weight formula {formula!r}: use 'inverse', "
                         f"'inverse_sqrt', 'effective' or 'none'")
    return w.tolist()


def dataset_class_counts(dataset) -> List[int]:
    if hasattr(dataset, 'class_counts'):
        return list(dataset.class_counts())
    labels = [int(x) for x in dataset.get_gt_labels() if int(x) >= 0]
    k = len(dataset.metainfo.get('classes') or []) or (max(labels) + 1)
    return np.bincount(labels, minlength=k).tolist()


@HOOKS.register_module()
class ClassWeightsHook(Hook):
    """Before training, count the training set's classes, compute class weights and
    give them to every loss of the model that has ``set_class_weights`` (e.g.
    :class:`mmkd.CMKDLoss`). Counts, formula and weights are logged.

    Args:
        formula (str): See :func:`class_weights`. Defaults to ``'inverse'``.
        beta (float): For ``'effective'``. Defaults to 0.999.
    """

    priority = 'NORMAL'

    def __init__(self, formula: str = 'inverse', beta: float = 0.999):
        class_weights([1, 1], formula, beta)  # validate the formula now
        self.formula, self.beta = formula, beta

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        targets = [m for m in model.modules() if hasattr(m, 'set_class_weights')]
        if not targets:
            print_log('ClassWeightsHook: no loss takes class weights', logger='current',
                      level=30)
            return
        counts = dataset_class_counts(runner.train_dataloader.dataset)
        weights = class_weights(counts, self.formula, self.beta)
        for m in targets:
            try:
                m.set_class_weights(weights)
            except ValueError as e:
                raise ValueError(f'ClassWeightsHook: the training set has {len(counts)} '
                                 f'classes ({counts}); {type(m).__name__}: {e}') from None
        print_log(f'class weights ({self.formula}) from training counts {counts}: '
                  f'{[round(w, 4) for w in weights]}', logger='current')
