# Cross-modal LD: the frozen GFL R50-PAFPN teacher trained on the *optical* rendering
# (./gfl_r50-pafpn_synthetic-det_teacher.py, the same teacher as
# ./ld_gfl_r50-pafpn_r18-fpn_synthetic-det.py) teaches the GFL R18-FPN student that reads
# the *infrared* rendering of the same scene (./gfl_r18-fpn_synthetic-det-infrared.py),
# one set of boxes. mmdet's LD, unchanged (LDHead: the KL divergence of the softened box
# distributions on the student's positive locations, KnowledgeDistillationKLDivLoss
# T = 10, weight 0.25, next to GFL's QFL, GIoU and DFL), inside mmkd's
# PairedKDSingleStageDetector: mmdet's KnowledgeDistillationSingleStageDetector with the
# student's features computed from the infrared image and the teacher's from the optical
# one (mmkd/models/det/paired_kd_one_stage.py).
#   data: ../cross_modal/_base_/paired_optical_infrared_data.py, the RetinaNet cross-modal
#         grid's (both renderings per COCO entry, paired flips, each modality normalised by
#         its own DetDataPreprocessor; validation and testing read infrared only)
#   teacher: trained first (python tools/train.py
#         configs/det_kd/ld/gfl_r50-pafpn_synthetic-det_teacher.py); its last checkpoint
#         is teacher_ckpt (another: --cfg-options model.teacher_ckpt=path/to/epoch_N.pth)
# The exported student (ExportStudentHook) is a plain mmdet GFL with the infrared
# preprocessor, whose config reads infrared/ with mmdet's CocoDataset.
_base_ = ['./ld_gfl_r50-pafpn_r18-fpn_synthetic-det.py',
          '../cross_modal/_base_/paired_optical_infrared_data.py']
_pd = _base_.pop('paired_data')

model = dict(
    type='mmkd.PairedKDSingleStageDetector',
    student_input='infrared',
    teacher_input='optical',
    backbone=dict(in_channels=1),  # the student's: one infrared band
    data_preprocessor=dict(
        _delete_=True,
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(optical=_pd.optical_preprocessor,
                           infrared=_pd.infrared_preprocessor),
        ref_modality='infrared'))  # the boxes' frame and batch metadata: the student's
train_dataloader = dict(dataset=dict(
    _delete_=True, data_root=_base_.data_root, metainfo=_base_.metainfo,
    **_pd.train_dataset))
val_dataloader = dict(dataset=dict(
    _delete_=True, data_root=_base_.data_root, metainfo=_base_.metainfo,
    **_pd.val_dataset))
test_dataloader = val_dataloader
del _pd
