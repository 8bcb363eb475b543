"""Balanced post-processing of classification scores (CMKD, Yang & Xu, CVPRW 2021).

The challenge's test set holds about N/10 samples of each of its 10 classes, while the
training set is very unbalanced, so a model over-predicts the frequent classes. The
paper's fix at test time: for the k most predicted classes, keep only the n samples
with the highest score for that class and move every other sample predicted as that
class to its next-highest class.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmkd.registry import METRICS


def balanced_assignment(scores: np.ndarray, k: int = 4, n: Optional[int] = None,
                        classes: Optional[Sequence[int]] = None) -> np.ndarray:
    """Labels after capping the k most predicted classes at n samples each.

    Args:
        scores: ``(N, C)`` class scores (logits or probabilities; only the order matters).
        k: How many of the most predicted classes to cap. Defaults to 4 (the paper's).
        n: Samples each capped class keeps; default ``N // C`` (N/10 for 10 classes).
        classes: Cap these classes instead of the k most predicted.

    Capped classes are processed from the most to the least predicted. A class keeps its
    n highest-scoring samples; every other sample it had moves to its highest-scoring
    class that has not been capped yet (so it can never be pushed back into a class
    that is already full). Each capped class therefore ends with exactly ``min(n,
    samples predicted as it at its turn)``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    num, c = scores.shape
    n = num // c if n is None else int(n)
    pred = scores.argmax(1)
    if classes is None:
        counts = np.bincount(pred, minlength=c)
        order = np.argsort(-counts, kind='stable')[:k]
    else:
        order = np.asarray(list(classes))
    closed = np.zeros(c, dtype=bool)
    for cls in order:
        closed[cls] = True
        members = np.flatnonzero(pred == cls)
        if len(members) <= n:
            continue
        ranked = members[np.argsort(-scores[members, cls], kind='stable')]
        moved = ranked[n:]
        if closed.all():
            raise ValueError('every class is capped: nowhere to move the surplus samples')
        alt = scores[moved].copy()
        alt[:, closed] = -np.inf
        pred[moved] = alt.argmax(1)
    return pred


@METRICS.register_module()
class BalancedPostProcessMetric(BaseMetric):
    """Accuracy before and after the balanced post-processing.

    Args:
        k (int): Classes to cap. Defaults to 4.
        n (int, optional): Samples per capped class; default N / number of classes.

    Logged as ``balanced/accuracy_before`` and ``balanced/accuracy_after`` (percent), with
    the number of samples moved.
    """

    default_prefix = 'balanced'

    def __init__(self, k: int = 4, n: Optional[int] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.k, self.n = k, n

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            score = s['pred_score'] if isinstance(s, dict) else s.pred_score
            label = s.get('gt_label') if isinstance(s, dict) else s.gt_label
            self.results.append(dict(
                score=torch.as_tensor(score).cpu().numpy(),
                label=None if label is None or len(label) == 0 else int(label[0])))

    def compute_metrics(self, results: List[dict]) -> dict:
        scores = np.stack([r['score'] for r in results])
        before = scores.argmax(1)
        after = balanced_assignment(scores, self.k, self.n)
        out = dict(moved=int((before != after).sum()))
        if all(r['label'] is not None for r in results):
            labels = np.asarray([r['label'] for r in results])
            out['accuracy_before'] = float((before == labels).mean() * 100)
            out['accuracy_after'] = float((after == labels).mean() * 100)
        return out
