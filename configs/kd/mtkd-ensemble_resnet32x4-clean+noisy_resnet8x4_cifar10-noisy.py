# Two teachers, two modalities, one student: a ResNet32x4 on the clean images
# (configs/ds_cmkd/resnet32x4_cifar10-clean_teacher.py) and a ResNet32x4 on the noisy
# ones (configs/kd/resnet32x4_cifar10-noisy_teacher.py) teach ResNet8x4 on the noisy
# images. Each teacher reads its own modality of the paired batch (input='clean' /
# 'noisy'): the optical + SAR teachers of a SAR student, on the CIFAR-10 clean/noisy
# pair. MultiTeacherKDLoss with one target, the average of the two teachers' softened
# probabilities; T 4, 0.1 CE + 0.9 KD as the one-teacher config
# configs/ds_cmkd/kd_resnet32x4_resnet8x4_cifar10-noisy.py, so the runs differ by the
# second teacher alone. The weights are logged as mtkd.weight_clean / mtkd.weight_noisy.
# The other aggregations: mtkd-sum_* and mtkd-camkd_* of this pair.
_base_ = ['../ds_cmkd/kd_resnet32x4_resnet8x4_cifar10-noisy.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model.student}},
    student_input='noisy',
    teachers=dict(
        clean={{_base_.model.teacher}},  # model, input and checkpoint as the base's
        noisy=dict(model={{_base_.model.teacher.model}}, input='noisy',
                   checkpoint='work_dirs/resnet32x4_cifar10-noisy_teacher')),
    taps=dict(s_logits='student.head.fc', t_clean_logits='clean.head.fc',
              t_noisy_logits='noisy.head.fc'),
    losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', aggregation='mean_targets',
                          temperature=4.0, loss_weight=0.9,
                          inputs=dict(student='s_logits', teacher=dict(
                              clean='t_clean_logits', noisy='t_noisy_logits')))),
    student_loss_weight={{_base_.model.student_loss_weight}},
    data_preprocessor={{_base_.model.data_preprocessor}})
