# Two teachers, the demo's few-label student: the ResNet-34 teacher of
# kd_resnet34_resnet18-w32_synthetic-sar-10shot.py and the VGG-8 teacher
# (vgg8_synthetic-sar_teacher.py), both trained on every training chip, teach the
# half-width ResNet-18 that sees 10 labelled chips per class. MultiTeacherKDLoss with
# one target, the average of the two teachers' softened probabilities; T 4, 0.1 CE +
# 0.9 KD, the data, schedule and hooks of the one-teacher config, so the two runs differ
# by the second teacher alone. The loss logs the teachers' weights as
# mtkd.weight_resnet34 / mtkd.weight_vgg8 (0.5 each here).
# The other aggregations: mtkd-sum_* (one Hinton KD term per teacher, summed) and
# mtkd-camkd_* (CA-MKD's per-sample confidence weights).
_base_ = ['./kd_resnet34_resnet18-w32_synthetic-sar-10shot.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model.student}},
    teachers=dict(
        resnet34={{_base_.model.teacher}},  # model and checkpoint as the base's
        vgg8=dict(model='{{ fileDirname }}/vgg8_synthetic-sar_teacher.py',
                  checkpoint='work_dirs/vgg8_synthetic-sar_teacher')),
    taps=dict(s_logits='student.head.fc', t_resnet34_logits='resnet34.head.fc',
              t_vgg8_logits='vgg8.head.fc'),
    losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', aggregation='mean_targets',
                          temperature=4.0, loss_weight=0.9,
                          inputs=dict(student='s_logits', teacher=dict(
                              resnet34='t_resnet34_logits', vgg8='t_vgg8_logits')))),
    student_loss_weight={{_base_.model.student_loss_weight}},
)
