# LD, localization distillation (Zheng et al., CVPR 2022 / TPAMI 2023), as mmdet ships it
# (mmdet's ld/ld_r18-gflv1-r101_fpn_1x_coco.py): the GFL R18-FPN student
# (./gfl_r18-fpn_synthetic-det.py) becomes mmdet's KnowledgeDistillationSingleStageDetector
# with an LDHead, which adds to GFL's own losses (QFL, GIoU, DFL) the KL divergence
# between the student's and the frozen GFL R50-PAFPN teacher's softened box
# distributions on the student's positive anchors (KnowledgeDistillationKLDivLoss,
# T = 10, weight 0.25, the authors' defaults in mmdet's config). mmdet's LDHead has no
# classification KD and no valuable-localization-region term.
#   teacher: ./gfl_r50-pafpn_synthetic-det_teacher.py, trained first (its last
#   checkpoint, epoch_24.pth, is teacher_ckpt; another one with
#   --cfg-options model.teacher_ckpt=path/to/teacher.pth)
# mmkd's hooks (configs/_base_/kd_hooks.py) handle mmdet's KD detector: ExportStudentHook
# writes the student as a plain mmdet GFL (LDHead -> GFLHead, no teacher), TeacherHashHook
# fingerprints model.teacher_model.
_base_ = ['./gfl_r18-fpn_synthetic-det.py',
          '../../_base_/kd_hooks.py']
# mmdet's detector loads teacher_ckpt (an mmengine training checkpoint: more than
# tensors) with torch.load while the model is built, before mmengine imports mmkd for the
# hooks; under torch >= 2.6's weights_only default that fails with an UnpicklingError
# unless mmkd's trusted local loader (mmkd/utils/checkpoint.py) is registered first.
# Importing mmkd when the config is parsed does it for mmdet's own tools/train.py too.
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
model = dict(
    type='KnowledgeDistillationSingleStageDetector',
    teacher_config='{{ fileDirname }}/gfl_r50-pafpn_synthetic-det_teacher.py',
    teacher_ckpt='work_dirs/gfl_r50-pafpn_synthetic-det_teacher/epoch_24.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
