# DisOptNet on SpaceNet 6 (users bring the data, see configs/_base_/datasets/
# spacenet6_sar_optical.py): the synthetic-benchmark config's model and losses with the
# SpaceNet 6 data and the authors' schedule. Train the optical teacher first:
#   python tools/train.py configs/disoptnet/effnet-b3-unet_spacenet6-optical_teacher.py
_base_ = [
    '../_base_/datasets/spacenet6_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_spacenet6.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
teacher_config = '{{ fileDirname }}/effnet-b3-unet_spacenet6-optical_teacher.py'
teacher_checkpoint = 'work_dirs/effnet-b3-unet_spacenet6-optical_teacher'
split_stage = 3
alpha, beta, temperature = 1.0, 1.0, 1.0
# as the synthetic-benchmark config: the authors' CriterionPixelWise weighting (per-pixel
# KL summed over the batch, / H*W) and each feature's L2 relative to the teacher's energy
pixel_kl_reduction, l2_reduction = 'sum_over_hw', 'relative'
model = dict(
    type='mmkd.Distiller',
    student=dict(_base_.disoptnet, split_stage=split_stage,
                 pseudo_optical_init=dict(checkpoint=teacher_checkpoint),
                 data_preprocessor=_base_.sar_preprocessor),
    student_input='sar',
    teacher=dict(model=teacher_config, checkpoint=teacher_checkpoint, input='optical'),
    taps=dict(
        s_logits='student.pseudo_optical_head.conv_seg',
        t_logits='teacher.decode_head.conv_seg',
        s_decoder=dict(model='student', path='pseudo_optical_head.conv_seg', io='input'),
        t_decoder=dict(model='teacher', path='decode_head.conv_seg', io='input'),
        s_stage4='student.pseudo_optical_backbone.layers.4',
        t_stage4='teacher.backbone.layers.4',
        s_stage5='student.pseudo_optical_backbone.layers.5',
        t_stage5='teacher.backbone.layers.5'),
    losses=dict(
        pixel_kl=dict(type='mmkd.KDLoss', temperature=temperature, loss_weight=alpha,
                      reduction=pixel_kl_reduction,
                      inputs=dict(student='s_logits', teacher='t_logits')),
        l2_stage4=dict(type='mmkd.FeatureMSELoss', loss_weight=beta / 3,
                       reduction=l2_reduction,
                       inputs=dict(student='s_stage4', teacher='t_stage4')),
        l2_stage5=dict(type='mmkd.FeatureMSELoss', loss_weight=beta / 3,
                       reduction=l2_reduction,
                       inputs=dict(student='s_stage5', teacher='t_stage5')),
        l2_decoder=dict(type='mmkd.FeatureMSELoss', loss_weight=beta / 3,
                        reduction=l2_reduction,
                        inputs=dict(student='s_decoder', teacher='t_decoder'))),
    data_preprocessor=_base_.paired_preprocessor)
