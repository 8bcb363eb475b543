# Comparison row "CWD" (channel-wise distillation, Shu et al., ICCV 2021): the SAR
# EfficientNet-B3 U-Net learns from the frozen optical teacher by matching, for each class
# channel of the logits, its spatial distribution (softmax over the positions at
# temperature tau) to the teacher's, KL teacher -> student, summed over positions and
# averaged over images and channels, times tau^2. The authors' segmentation setting
# (irfanICMLL/TorchDistiller `exp_cwd.sh channel kl 3 4`, PSPNet on Cityscapes): the
# logits, tau = 4, weight 3, with the ground-truth losses at weight 1.
# Not measured on the benchmark yet.
_base_ = [
    '../_base_/datasets/synthetic_buildings_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_synthetic.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student=dict(_base_.sar_effnet_unet, data_preprocessor=_base_.sar_preprocessor),
    student_input='sar',
    teacher=dict(
        model='{{ fileDirname }}/effnet-b3-unet_synthetic-buildings-optical_teacher.py',
        checkpoint='work_dirs/effnet-b3-unet_synthetic-buildings-optical_teacher',
        input='optical'),
    taps=dict(s_logits='student.decode_head.conv_seg',
              t_logits='teacher.decode_head.conv_seg'),
    losses=dict(cwd=dict(type='mmkd.CWDLoss', tau=4.0, loss_weight=3.0,
                         inputs=dict(student='s_logits', teacher='t_logits'))),
    data_preprocessor=_base_.paired_preprocessor)
