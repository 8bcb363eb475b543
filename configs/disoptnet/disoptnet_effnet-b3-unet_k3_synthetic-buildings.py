# DisOptNet (Kang et al., TGRS 2022) on the SYNTHETIC building benchmark, k = 3: the
# objective of ./_base_/disoptnet_k3.py (what it is, alpha, beta, T, the reductions)
# with the synthetic data and the short CPU schedule.
# Train the teacher first:
#   python tools/train.py configs/disoptnet/effnet-b3-unet_synthetic-buildings-optical_teacher.py
_base_ = [
    '../_base_/datasets/synthetic_buildings_sar_optical.py',
    './_base_/schedule_synthetic.py',
    './_base_/disoptnet_k3.py',
]
teacher_config = '{{ fileDirname }}/effnet-b3-unet_synthetic-buildings-optical_teacher.py'
teacher_checkpoint = 'work_dirs/effnet-b3-unet_synthetic-buildings-optical_teacher'
model = dict(
    student=dict(pseudo_optical_init=dict(checkpoint=teacher_checkpoint),
                 data_preprocessor=_base_.sar_preprocessor),
    teacher=dict(model=teacher_config, checkpoint=teacher_checkpoint),
    data_preprocessor=_base_.paired_preprocessor)
