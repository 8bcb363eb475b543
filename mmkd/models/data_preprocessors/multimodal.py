"""Per-modality preprocessing of paired batches.

Each modality gets its own host-library data preprocessor (mmpretrain
``ClsDataPreprocessor``, mmseg ``SegDataPreProcessor``, mmdet ``DetDataPreprocessor``),
with its own mean/std, channel conversion and padding: reuse rather than rewrite. The
reference modality's preprocessor (the one whose frame the labels are in, normally the
student's) runs on the real data samples, so padding and ``batch_input_shape`` metadata
describe that modality; the others run on copies. Batch augmentations that must treat
the modalities together (paired Mixup) run afterwards on all of them at once.
"""
import copy
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from mmkd.registry import MODELS


@MODELS.register_module()
class PairedMixup:
    """Mixup for paired samples: every modality is mixed with the same partner and the
    same λ ~ Beta(α, α), and the soft labels follow (Zhang et al., *mixup: Beyond
    Empirical Risk Minimization*, ICLR 2018; mmpretrain's ``Mixup`` for one image).

    Args:
        alpha (float): Beta distribution parameter.
    """

    def __init__(self, alpha: float = 1.0):
        if alpha <= 0:
            raise ValueError(f'alpha must be > 0, got {alpha}')
        self.alpha = alpha

    def __call__(self, inputs: Dict[str, torch.Tensor], scores: Optional[torch.Tensor]):
        n = next(iter(inputs.values())).shape[0]
        lam = float(np.random.beta(self.alpha, self.alpha))
        index = torch.randperm(n)
        mixed = {m: lam * x + (1 - lam) * x[index] for m, x in inputs.items()}
        if scores is not None:
            scores = lam * scores + (1 - lam) * scores[index]
        return mixed, scores, lam, index


@MODELS.register_module()
class MultiModalDataPreprocessor(BaseDataPreprocessor):
    """Normalise each modality of a paired batch with its own preprocessor.

    Args:
        preprocessors (dict): modality -> data preprocessor config (host-library type,
            e.g. ``dict(type='mmpretrain.ClsDataPreprocessor', mean=[...], std=[...])``).
        ref_modality (str, optional): The modality whose preprocessor sees the real data
            samples (labels' frame); default: the last key of ``preprocessors``.
        batch_augments (list, optional): Paired batch augments, e.g.
            ``[dict(type='mmkd.PairedMixup', alpha=0.2)]``; one is drawn per batch.
        num_classes (int, optional): Needed with batch augments on classification, to
            turn labels into the one-hot scores that get mixed.
    """

    def __init__(self,
                 preprocessors: Dict[str, dict],
                 ref_modality: Optional[str] = None,
                 batch_augments: Optional[List[dict]] = None,
                 num_classes: Optional[int] = None):
        super().__init__()
        if not preprocessors:
            raise ValueError('MultiModalDataPreprocessor needs at least one modality')
        self.preprocessors = torch.nn.ModuleDict(
            {m: MODELS.build(cfg) for m, cfg in preprocessors.items()})
        self.ref_modality = ref_modality or list(preprocessors)[-1]
        if self.ref_modality not in self.preprocessors:
            raise KeyError(f'ref_modality {self.ref_modality!r} is not among '
                           f'{list(preprocessors)}')
        self.batch_augments = [MODELS.build(a) if isinstance(a, dict) else a
                               for a in (batch_augments or [])]
        if self.batch_augments and num_classes is None:
            raise ValueError('batch_augments need num_classes (for the mixed soft labels)')
        self.num_classes = num_classes

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs, samples = data['inputs'], data.get('data_samples')
        if isinstance(inputs, dict):  # already collated per modality
            per_mod = inputs
        else:
            first = inputs[0]
            if not isinstance(first, dict):
                raise TypeError('MultiModalDataPreprocessor expects paired inputs (a dict '
                                'modality -> image per sample); use PackMultiModalInputs')
            # Training needs every modality; evaluation only the reference one (a
            # distilled student is validated and tested on its own modality).
            missing = [m for m in self.preprocessors if m not in first
                       and (training or m == self.ref_modality)]
            if missing:
                raise KeyError(f'the batch has no {missing} images (it has '
                               f'{sorted(first)}); read them in the pipeline or drop '
                               f'them from the preprocessor')
            per_mod = {m: [x[m] for x in inputs] for m in first if m in self.preprocessors}
        out, out_samples = {}, samples
        order = [m for m in per_mod if m != self.ref_modality]
        if self.ref_modality in per_mod:
            order.append(self.ref_modality)
        for m in order:
            mine = samples if m == self.ref_modality else copy.deepcopy(samples)
            res = self.preprocessors[m](dict(inputs=per_mod[m], data_samples=mine),
                                        training=False)  # their batch augments: off
            out[m] = res['inputs']
            if m == self.ref_modality:
                out_samples = res['data_samples']
        if training and self.batch_augments and out_samples is not None:
            out, out_samples = self._augment(out, out_samples)
        return dict(inputs=out, data_samples=out_samples)

    def _augment(self, inputs, samples):
        scores = None
        if all('gt_label' in s for s in samples):
            labels = torch.stack([s.gt_label.reshape(-1)[0] for s in samples])
            scores = F.one_hot(labels.to(torch.long), self.num_classes).float()
            scores = scores.to(next(iter(inputs.values())).device)
        aug = self.batch_augments[np.random.randint(len(self.batch_augments))]
        inputs, scores, _, _ = aug(inputs, scores)
        if scores is not None:
            for s, sc in zip(samples, scores):
                s.set_gt_score(sc)
        return inputs, samples
