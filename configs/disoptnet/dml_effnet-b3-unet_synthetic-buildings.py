# Comparison row "DML" (deep mutual learning, Zhang et al., CVPR 2018): a SAR and an
# optical EfficientNet-B3 U-Net are trained together from scratch, each with its own
# CE + Dice and a KL term towards the other's per-pixel predictions (T = 1, weight 1).
# The optical network is the distiller's trainable peer; only the SAR one is exported.
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
    teacher=dict(model=dict(_base_.optical_effnet_unet,
                            data_preprocessor=_base_.optical_preprocessor),
                 input='optical', trainable=True, task_loss_weight=1.0),
    taps=dict(s_logits='student.decode_head.conv_seg', t_logits='teacher.decode_head.conv_seg'),
    losses=dict(mutual=dict(type='mmkd.DMLLoss', temperature=1.0, loss_weight=1.0,
                            inputs=dict(student='s_logits', teacher='t_logits'))),
    data_preprocessor=_base_.paired_preprocessor)
