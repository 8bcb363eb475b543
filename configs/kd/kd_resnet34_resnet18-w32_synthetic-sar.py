# Hinton KD: the student baseline config plus a teacher, two taps and one loss.
_base_ = ['./resnet18-w32_synthetic-sar_baseline.py', './_base_/methods/kd.py',
          '../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/resnet34_synthetic-sar_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/resnet34_synthetic-sar_teacher'),
    **_base_.pop('method'),  # taps and loss: 0.1 CE + 0.9 KD (_base_/methods/kd.py)
)
