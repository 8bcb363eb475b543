# The main pair: a ResNet32x4 teacher reading the clean image, a ResNet8x4 student the
# noisy one (both RepDistiller's CIFAR networks). The taps are RepDistiller's `feat`
# list of both networks (mmkd.CifarResNet's docstring), so each method's config names
# the layers as the reference does: feat[1:-1] = feat1..feat3, feat[-1] = pool.
_base_ = ['./models/cifar_nets.py']
model = dict(
    type='mmkd.Distiller',
    student={{_base_.resnet8x4}},
    student_input='noisy',
    teacher=dict(model={{_base_.resnet32x4}}, input='clean',
                 checkpoint='work_dirs/resnet32x4_cifar10-clean_teacher'),
    taps=dict(
        s_feat0='student.backbone.relu',     # stem, (N, 32, 32, 32) at 32 px
        s_feat1='student.backbone.layer1',   # (N, 64, 32, 32)
        s_feat2='student.backbone.layer2',   # (N, 128, 16, 16)
        s_feat3='student.backbone.layer3',   # (N, 256, 8, 8)
        s_pool='student.neck[0]',            # (N, 256)
        s_logits='student.head.fc',
        t_feat0='teacher.backbone.relu',
        t_feat1='teacher.backbone.layer1',
        t_feat2='teacher.backbone.layer2',
        t_feat3='teacher.backbone.layer3',
        t_pool='teacher.neck[0]',
        t_logits='teacher.head.fc'))

# DS-CMKD's two losses for this pair, L = CE + gamma * (SEM + DCM); method configs add
# them with losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}). gamma and the
# projector width are not in what we could read of the paper (SEMLoss, DCMLoss).
# SEM is Barlow Twins' *sum* over the d x d entries of C: at initialisation its
# on-diagonal term is ~d = 2048 and its gradient on the student ~1500x the CE's
# (measured: norm 1447 vs 0.98), so with plain SGD it would dominate every step (Barlow
# Twins trains with LARS). Its weight is therefore gamma / d (SEM as a mean over the d
# channels), so that one gamma weights terms of like size (at initialisation: SEM ~1.2,
# DCM's terms +-2.5, CE ~2.3). Other gamma:
# --cfg-options model.losses.sem.loss_weight=G/2048 model.losses.dcm.loss_weight=G
gamma = 1.0
projector_dim = 2048  # SEMLoss default: Barlow Twins' 3-layer MLP at 1/4 of its width
sem = dict(type='mmkd.SEMLoss', student_channels=256, teacher_channels=256,
           projector_dims=(projector_dim, ) * 3, loss_weight=gamma / projector_dim,
           inputs=dict(student='s_pool', teacher='t_pool'))
dcm = dict(type='mmkd.DCMLoss', loss_weight=gamma,  # stage-2 maps, same shape here
           inputs=dict(student='s_feat2', teacher='t_feat2'))
kd = dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
          inputs=dict(student='s_logits', teacher='t_logits'))
