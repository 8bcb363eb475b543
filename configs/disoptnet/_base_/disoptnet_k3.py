# DisOptNet (Kang et al., TGRS 2022) distilled from a frozen optical teacher, the
# objective both k = 3 configs share (synthetic benchmark, SpaceNet 6): a SAR
# EfficientNet-B3 U-Net whose stages 0..k (k = split_stage = 3, stride 8) are shared
# with a pseudo-optical branch that copies the optical teacher's stages 4..5 and
# decoder. The branch's prediction imitates the frozen optical teacher's (pixel-wise
# KL, weight alpha, temperature T, weighted as the authors' CriterionPixelWise) and
# its stage-4/5 and decoder features the teacher's (L2 relative to the teacher's
# feature energy, weight beta, averaged over the matched features); the fused
# prediction is trained with CE + Dice (and the SAR branch's own, deep supervision)
# and is the test output.
# A leaf lists its data and schedule bases before this one and sets the teacher
# (teacher_config, teacher_checkpoint: model.teacher and the branch's
# pseudo_optical_init) and the preprocessors of its data (the student's SAR one and
# the paired one), which are left empty here.
_base_ = [
    './models_effnet_unet.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
split_stage = 3
alpha = 1.0         # pixel-wise KL (authors' code: 1)
beta = 1.0          # feature L2, mean over the matched features (authors' code: 1)
temperature = 1.0   # the authors' code uses none (T = 1)
# the authors' CriterionPixelWise weighting: per-pixel KL summed over the batch and
# divided by H*W (= images per GPU x the per-pixel mean); 'mean' is the per-pixel mean
pixel_kl_reduction = 'sum_over_hw'
# each matched feature's squared error relative to the teacher's energy at that stage
# (1 = as far as a zero map), so no stage's activation scale swamps CE + Dice;
# 'mean' is the authors' raw nn.MSELoss (measured at 2.8 against 0.3 for CE + Dice)
l2_reduction = 'relative'

model = dict(
    type='mmkd.Distiller',
    student=dict(
        _base_.disoptnet, split_stage=split_stage,
        # start the branch from the teacher's stages (the authors: ImageNet weights)
        pseudo_optical_init=dict(checkpoint=None),  # the leaf's teacher_checkpoint
        data_preprocessor=dict()),                  # the leaf's SAR preprocessor
    student_input='sar',
    teacher=dict(model=None, checkpoint=None, input='optical'),  # set by the leaf
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
    data_preprocessor=dict())  # the leaf's paired preprocessor
