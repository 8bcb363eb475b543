# Several teachers, one SAR student: the EO teacher (resnet34_cifar10-eo_supervised.py)
# and the SAR baseline (resnet34_cifar10-simsar_supervised.py, the student's own
# architecture) both teach a simulated-SAR ResNet-34. Each teacher reads its own
# modality of the paired batch (input='eo' / 'sar'); the student reads SAR.
# MultiTeacherKDLoss with CA-MKD's per-sample weights (Zhang et al., ICASSP 2022): the
# teacher whose cross-entropy with the label is lower weighs more on that sample; the
# weights are logged as mtkd.weight_eo / mtkd.weight_sar. Other aggregations:
#   --cfg-options model.losses.mtkd.aggregation=mean_targets   (or =sum)
# The authors' settings: T 4, CE weight 1, KD weight 1.
_base_ = [
    '../_base_/models/cmkd_resnet34.py',
    '../_base_/datasets/cifar10_eo_simsar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.sar_model}},
    student_input='sar',
    teachers=dict(
        eo=dict(model={{_base_.eo_model}}, input='eo',
                checkpoint='work_dirs/resnet34_cifar10-eo_supervised'),
        sar=dict(model={{_base_.sar_model}}, input='sar',
                 checkpoint='work_dirs/resnet34_cifar10-simsar_supervised')),
    taps=dict(s_logits='student.head.fc', t_eo_logits='eo.head.fc',
              t_sar_logits='sar.head.fc'),
    losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', aggregation='confidence',
                          temperature=4.0, loss_weight=1.0,
                          inputs=dict(student='s_logits',
                                      teacher=dict(eo='t_eo_logits', sar='t_sar_logits')))),
    student_loss_weight=1.0,
    data_preprocessor={{_base_.paired_preprocessor}})
