# ResNet32x4 teacher on clean images, ShuffleNetV2 student on noisy ones. Taps:
# RepDistiller's `feat` list (mmkd.CifarShuffleNetV2 / CifarResNet docstrings).
_base_ = ['./models/cifar_nets.py']
model = dict(
    type='mmkd.Distiller',
    student={{_base_.shufflev2}},
    student_input='noisy',
    teacher=dict(model={{_base_.resnet32x4}}, input='clean',
                 checkpoint='work_dirs/resnet32x4_cifar10-clean_teacher'),
    taps=dict(
        s_feat0='student.backbone.relu',     # (N, 24, 32, 32) at 32 px
        s_feat1='student.backbone.layer1',   # (N, 116, 16, 16)
        s_feat2='student.backbone.layer2',   # (N, 232, 8, 8)
        s_feat3='student.backbone.layer3',   # (N, 464, 4, 4)
        s_pool='student.neck[0]',            # (N, 1024)
        s_logits='student.head.fc',
        t_feat0='teacher.backbone.relu',
        t_feat1='teacher.backbone.layer1',
        t_feat2='teacher.backbone.layer2',   # (N, 128, 16, 16)
        t_feat3='teacher.backbone.layer3',
        t_pool='teacher.neck[0]',            # (N, 256)
        t_logits='teacher.head.fc'))
gamma = 1.0  # gamma and SEM's weight gamma / d: see distill_resnet32x4_resnet8x4.py
projector_dim = 2048
sem = dict(type='mmkd.SEMLoss', student_channels=1024, teacher_channels=256,
           projector_dims=(projector_dim, ) * 3, loss_weight=gamma / projector_dim,
           inputs=dict(student='s_pool', teacher='t_pool'))
dcm_connector = dict(type='mmkd.ConvConnector', source='s_feat2', like='t_feat2',
                     in_channels=232, out_channels=128, kernel_size=3,
                     norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
dcm = dict(type='mmkd.DCMLoss', loss_weight=gamma,
           inputs=dict(student='s_feat2_adapted', teacher='t_feat2'))
kd = dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
          inputs=dict(student='s_logits', teacher='t_logits'))
