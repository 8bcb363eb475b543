"""mmdet's knowledge-distillation detector (LD) with the teacher and the student reading
different modalities of one paired batch."""
from typing import Dict, Union

import torch
from mmdet.models.detectors import KnowledgeDistillationSingleStageDetector
from mmdet.models.detectors.single_stage import SingleStageDetector

from mmkd.models.distillers.teachers import route
from mmkd.registry import MODELS


@MODELS.register_module()
class PairedKDSingleStageDetector(KnowledgeDistillationSingleStageDetector):
    """mmdet's ``KnowledgeDistillationSingleStageDetector`` (LD: an ``LDHead`` student
    and a frozen GFL teacher, Zheng et al., *Localization Distillation for Dense Object
    Detection*, CVPR 2022) for a cross-modal pair: the teacher reads modality
    ``teacher_input`` of each sample (optical, say), the student ``student_input``
    (infrared / SAR) of the same sample, with one set of boxes.

    Everything else is mmdet's: the teacher is built from ``teacher_config`` and loaded
    from ``teacher_ckpt`` when the detector is built, kept out of ``parameters()`` and
    ``state_dict()``, and ``self.bbox_head.loss(x, teacher_outputs, samples)`` computes
    the student's GFL losses and LD's KL term exactly as in mmdet's detector. The only
    change is the routing: training batches come from ``mmkd.PairedCocoDataset`` through
    ``mmkd.MultiModalDataPreprocessor`` (each modality normalised by its own mmdet
    ``DetDataPreprocessor``), a dict ``modality -> (N, C, H, W)``; the student's
    features are computed from ``student_input``, the teacher's from
    ``teacher_input``. Validation, testing and ``tensor`` mode read the student's
    modality only (its batch may hold nothing else).

    LD compares the two box distributions location for location, so both images of a
    pair must reach the heads at the same size (``mmkd.PairedResize`` to one size): a
    mismatch is an error naming both modalities and their shapes, on the first batch.

    Args:
        student_input (str): The modality the student reads (and is tested on).
        teacher_input (str): The modality the teacher reads.
        data_preprocessor (dict): An ``mmkd.MultiModalDataPreprocessor`` config with an
            entry for both modalities.
        **kwargs: mmdet's ``KnowledgeDistillationSingleStageDetector`` arguments
            (backbone, neck, bbox_head, teacher_config, teacher_ckpt, eval_teacher,
            train_cfg, test_cfg).
    """

    def __init__(self, student_input: str, teacher_input: str,
                 data_preprocessor: dict, **kwargs) -> None:
        if student_input == teacher_input:
            raise ValueError(
                f'model.student_input and model.teacher_input are both '
                f'{student_input!r}: for one modality use mmdet\'s '
                f'KnowledgeDistillationSingleStageDetector')
        preprocessors = (data_preprocessor or {}).get('preprocessors')
        if not isinstance(preprocessors, dict):
            raise ValueError(
                'model.data_preprocessor: PairedKDSingleStageDetector reads paired '
                "batches; set type='mmkd.MultiModalDataPreprocessor' with "
                f'preprocessors=dict({teacher_input}=..., {student_input}=...) '
                f'(got {data_preprocessor!r})')
        missing = [m for m in (teacher_input, student_input) if m not in preprocessors]
        if missing:
            raise KeyError(f'model.data_preprocessor.preprocessors has no {missing} '
                           f'entry (it has {sorted(preprocessors)}): each modality '
                           f'the teacher or the student reads needs its own')
        super().__init__(data_preprocessor=data_preprocessor, **kwargs)
        self.student_input = student_input
        self.teacher_input = teacher_input

    def extract_feat(self, batch_inputs: Union[torch.Tensor, Dict[str, torch.Tensor]]):
        """The student's features of its own modality (predict, tensor mode)."""
        return SingleStageDetector.extract_feat(
            self, route(batch_inputs, self.student_input, 'student'))

    def loss(self, batch_inputs: Dict[str, torch.Tensor], batch_data_samples) -> dict:
        """mmdet's KD loss with the student reading ``student_input`` and the teacher
        ``teacher_input`` of the same samples."""
        student = route(batch_inputs, self.student_input, 'student')
        teacher = route(batch_inputs, self.teacher_input, 'teacher')
        if student.shape[0] != teacher.shape[0] or student.shape[-2:] != teacher.shape[-2:]:
            raise ValueError(
                f'the {self.student_input!r} batch is {tuple(student.shape)} and the '
                f'{self.teacher_input!r} batch {tuple(teacher.shape)}: LD compares the '
                f"student's and the teacher's box distributions location for location, "
                f'so both images of a pair must have the same size (resize both with '
                f'mmkd.PairedResize to one size)')
        x = SingleStageDetector.extract_feat(self, student)
        with torch.no_grad():
            out_teacher = self.teacher_model.bbox_head(
                self.teacher_model.extract_feat(teacher))
        return self.bbox_head.loss(x, out_teacher, batch_data_samples)
