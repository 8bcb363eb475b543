# Hinton KD for the few-label student (the demo's default): the 10-chips-per-class
# baseline plus the teacher trained on every chip, two taps and one loss (T 4,
# 0.9 KD + 0.1 CE, as kd_resnet34_resnet18-w32_synthetic-sar.py). Baseline and KD of one
# seed read the same draw of labelled chips.
_base_ = ['./resnet18-w32_synthetic-sar-10shot_baseline.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/resnet34_synthetic-sar_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/resnet34_synthetic-sar_teacher'),
    taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
    losses=dict(kd=dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
                        inputs=dict(student='s_logits', teacher='t_logits'))),
    student_loss_weight=0.1,  # RepDistiller / mdistiller: 0.1 CE + 0.9 KD
)
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
