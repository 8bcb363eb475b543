# Radar / optics: a ResNet-34 teacher reading the optical image teaches a ResNet-18
# student reading the radar image of the same target (mmpretrain's ImageNet ResNets,
# from scratch, at 224 px; the CIFAR networks of the noisy benchmarks have no
# stride-2 stem and would cost ~50x their 32-px FLOPs here). The paper's networks for
# this dataset could not be checked. Swap `input` / `student_input` for optical
# students.
_base_ = ['./datasets/radar_optics_8cls.py']
resnet34 = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=34),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=8, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
resnet18 = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=8, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
model = dict(
    type='mmkd.Distiller',
    student=resnet18,
    student_input='radar',
    teacher=dict(model=resnet34, input='optical',
                 checkpoint='work_dirs/resnet34_radar-optics-optical_teacher'),
    taps=dict(
        s_feat3='student.backbone.layer3',   # (N, 256, 14, 14) at 224 px
        s_pool='student.neck[0]',            # (N, 512)
        s_logits='student.head.fc',
        t_feat3='teacher.backbone.layer3',
        t_pool='teacher.neck[0]',
        t_logits='teacher.head.fc'),
    data_preprocessor={{_base_.paired_preprocessor}})
# DS-CMKD's losses (gamma and SEM's gamma / d: see distill_resnet32x4_resnet8x4.py):
# SEM on the pooled embeddings, DCM on the stage-3 maps
gamma = 1.0
projector_dim = 2048
sem = dict(type='mmkd.SEMLoss', student_channels=512, teacher_channels=512,
           projector_dims=(projector_dim, ) * 3, loss_weight=gamma / projector_dim,
           inputs=dict(student='s_pool', teacher='t_pool'))
dcm = dict(type='mmkd.DCMLoss', loss_weight=gamma,
           inputs=dict(student='s_feat3', teacher='t_feat3'))
kd = dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
          inputs=dict(student='s_logits', teacher='t_logits'))
