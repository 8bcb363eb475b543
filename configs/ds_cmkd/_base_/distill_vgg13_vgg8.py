# VGG13 teacher on clean images, VGG8 student on noisy ones (RepDistiller's CIFAR VGGs
# with BN). Taps: RepDistiller's `feat` list (mmkd.CifarVGG's docstring).
_base_ = ['./models/cifar_nets.py']
model = dict(
    type='mmkd.Distiller',
    student={{_base_.vgg8}},
    student_input='noisy',
    teacher=dict(model={{_base_.vgg13}}, input='clean',
                 checkpoint='work_dirs/vgg13_cifar10-clean_teacher'),
    taps=dict(
        s_feat0='student.backbone.block0',   # (N, 64, 32, 32) at 32 px
        s_feat1='student.backbone.block1',   # (N, 128, 16, 16)
        s_feat2='student.backbone.block2',   # (N, 256, 8, 8)
        s_feat3='student.backbone.block3',   # (N, 512, 4, 4)
        s_feat4='student.backbone.block4',   # (N, 512, 4, 4)
        s_pool='student.neck[0]',            # (N, 512)
        s_logits='student.head.fc',
        t_feat0='teacher.backbone.block0',
        t_feat1='teacher.backbone.block1',
        t_feat2='teacher.backbone.block2',
        t_feat3='teacher.backbone.block3',
        t_feat4='teacher.backbone.block4',
        t_pool='teacher.neck[0]',
        t_logits='teacher.head.fc'))
gamma = 1.0  # gamma and SEM's weight gamma / d: see distill_resnet32x4_resnet8x4.py
projector_dim = 2048
sem = dict(type='mmkd.SEMLoss', student_channels=512, teacher_channels=512,
           projector_dims=(projector_dim, ) * 3, loss_weight=gamma / projector_dim,
           inputs=dict(student='s_pool', teacher='t_pool'))
dcm = dict(type='mmkd.DCMLoss', loss_weight=gamma,
           inputs=dict(student='s_feat2', teacher='t_feat2'))
kd = dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
          inputs=dict(student='s_logits', teacher='t_logits'))
