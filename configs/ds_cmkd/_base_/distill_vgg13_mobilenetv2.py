# VGG13 teacher on clean images, MobileNetV2 (RepDistiller's mobile_half) student on
# noisy ones. Taps: RepDistiller's `feat` list (mmkd.CifarMobileNetV2 / CifarVGG).
_base_ = ['./models/cifar_nets.py']
model = dict(
    type='mmkd.Distiller',
    student={{_base_.mobilenetv2}},
    student_input='noisy',
    teacher=dict(model={{_base_.vgg13}}, input='clean',
                 checkpoint='work_dirs/vgg13_cifar10-clean_teacher'),
    taps=dict(
        s_feat0='student.backbone.conv1',     # (N, 16, 16, 16) at 32 px
        s_feat1='student.backbone.blocks.1',  # (N, 12, 16, 16)
        s_feat2='student.backbone.blocks.2',  # (N, 16, 8, 8)
        s_feat3='student.backbone.blocks.4',  # (N, 48, 4, 4)
        s_feat4='student.backbone.blocks.6',  # (N, 160, 2, 2)
        s_pool='student.neck[0]',             # (N, 1280)
        s_logits='student.head.fc',
        t_feat0='teacher.backbone.block0',
        t_feat1='teacher.backbone.block1',
        t_feat2='teacher.backbone.block2',    # (N, 256, 8, 8)
        t_feat3='teacher.backbone.block3',
        t_feat4='teacher.backbone.block4',
        t_pool='teacher.neck[0]',             # (N, 512)
        t_logits='teacher.head.fc'))
gamma = 1.0  # gamma and SEM's weight gamma / d: see distill_resnet32x4_resnet8x4.py
projector_dim = 2048
sem = dict(type='mmkd.SEMLoss', student_channels=1280, teacher_channels=512,
           projector_dims=(projector_dim, ) * 3, loss_weight=gamma / projector_dim,
           inputs=dict(student='s_pool', teacher='t_pool'))
dcm_connector = dict(type='mmkd.ConvConnector', source='s_feat2', like='t_feat2',
                     in_channels=16, out_channels=256, kernel_size=3,
                     norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
dcm = dict(type='mmkd.DCMLoss', loss_weight=gamma,
           inputs=dict(student='s_feat2_adapted', teacher='t_feat2'))
kd = dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
          inputs=dict(student='s_logits', teacher='t_logits'))
