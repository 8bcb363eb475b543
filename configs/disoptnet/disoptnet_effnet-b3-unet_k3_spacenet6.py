# DisOptNet on SpaceNet 6 (users bring the data, see configs/_base_/datasets/
# spacenet6_sar_optical.py): the synthetic-benchmark config's model and losses
# (./_base_/disoptnet_k3.py) with the SpaceNet 6 data and the authors' schedule. Train
# the optical teacher first:
#   python tools/train.py configs/disoptnet/effnet-b3-unet_spacenet6-optical_teacher.py
_base_ = [
    '../_base_/datasets/spacenet6_sar_optical.py',
    './_base_/schedule_spacenet6.py',
    './_base_/disoptnet_k3.py',
]
teacher_config = '{{ fileDirname }}/effnet-b3-unet_spacenet6-optical_teacher.py'
teacher_checkpoint = 'work_dirs/effnet-b3-unet_spacenet6-optical_teacher'
model = dict(
    student=dict(pseudo_optical_init=dict(checkpoint=teacher_checkpoint),
                 data_preprocessor=_base_.sar_preprocessor),
    teacher=dict(model=teacher_config, checkpoint=teacher_checkpoint),
    data_preprocessor=_base_.paired_preprocessor)
