# Several teachers of one modality (an ensemble): the ResNet32x4 and VGG13 teachers of
# the CIFAR-10 clean/noisy pair (configs/ds_cmkd/, both trained on the clean images)
# teach the ResNet8x4 student on the noisy images. MultiTeacherKDLoss with one target,
# the average of the two teachers' softened probabilities; the rest is the one-teacher
# config configs/ds_cmkd/kd_resnet32x4_resnet8x4_cifar10-noisy.py (RepDistiller's
# 0.1 CE + 0.9 KD, T = 4), so the two runs differ by the second teacher alone.
# Other aggregations:
#   --cfg-options model.losses.mtkd.aggregation=sum          (mean of the two KD losses)
#   --cfg-options model.losses.mtkd.aggregation=confidence   (CA-MKD's per-sample weights)
_base_ = [
    '../ds_cmkd/_base_/models/cifar_nets.py',
    '../ds_cmkd/_base_/datasets/cifar10_clean-noisy.py',
    '../ds_cmkd/_base_/schedules/sgd_240e.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.resnet8x4}},
    student_input='noisy',
    teachers=dict(
        resnet32x4=dict(model={{_base_.resnet32x4}}, input='clean',
                        checkpoint='work_dirs/resnet32x4_cifar10-clean_teacher'),
        vgg13=dict(model={{_base_.vgg13}}, input='clean',
                   checkpoint='work_dirs/vgg13_cifar10-clean_teacher')),
    taps=dict(s_logits='student.head.fc', t_resnet_logits='resnet32x4.head.fc',
              t_vgg_logits='vgg13.head.fc'),
    losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', aggregation='mean_targets',
                          temperature=4.0, loss_weight=0.9,
                          inputs=dict(student='s_logits', teacher=dict(
                              resnet32x4='t_resnet_logits', vgg13='t_vgg_logits')))),
    student_loss_weight=0.1,
    data_preprocessor={{_base_.paired_preprocessor}})
