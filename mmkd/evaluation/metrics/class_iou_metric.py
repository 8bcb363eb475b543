"""mmseg's IoUMetric, with the chosen classes' values logged as top-level keys.

mmseg's ``IoUMetric`` prints a per-class table but returns (and so logs, compares for
``save_best`` and writes to the result files) only means over classes: ``mIoU``,
``mDice``, ``mPrecision``... For a building / background task the mean is dominated by
the easy background class; the numbers the building-extraction literature reports are
the building class's. This subclass keeps everything ``IoUMetric`` computes and adds
``<Metric>.<class>`` keys (``IoU.building``, ``Dice.building``, ``Precision.building``,
``Recall.building``, ``Fscore.building``, ``Acc.building``) for the classes named.
"""
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation.metrics import IoUMetric

from mmkd.registry import METRICS


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):
    """``IoUMetric`` plus per-class values of ``classes`` as top-level metrics.

    Args:
        classes (Sequence[str]): Class names (of ``dataset_meta['classes']``) whose
            values are reported on their own. Defaults to ``('building', )``.
        iou_metrics (Sequence[str]): As ``IoUMetric``; defaults to
            ``['mIoU', 'mDice', 'mFscore']`` (IoU, Dice, precision, recall, F-score).
        **kwargs: ``IoUMetric`` arguments.

    Values are percentages over the whole evaluation set (pixel counts summed over all
    images before dividing), as mmseg computes them.
    """

    def __init__(self, classes: Sequence[str] = ('building', ),
                 iou_metrics: Sequence[str] = ('mIoU', 'mDice', 'mFscore'), **kwargs):
        super().__init__(iou_metrics=list(iou_metrics), **kwargs)
        self.report_classes = tuple(classes)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        names = list(self.dataset_meta['classes'])
        unknown = [c for c in self.report_classes if c not in names]
        if unknown:
            raise KeyError(f'ClassIoUMetric: classes {unknown} are not among the '
                           f'dataset classes {names}')
        totals = [sum(r[i] for r in results) for i in range(4)]
        per_class = self.total_area_to_metrics(*totals, self.metrics, self.nan_to_num,
                                               self.beta)
        out = OrderedDict()
        for cls in self.report_classes:
            idx = names.index(cls)
            for key, values in per_class.items():
                if key != 'aAcc':
                    out[f'{key}.{cls}'] = float(np.round(values[idx].item() * 100, 2))
        print_log('reported classes: ' + ', '.join(f'{k}={v}' for k, v in out.items()),
                  logger=MMLogger.get_current_instance())
        out.update(metrics)
        return out
