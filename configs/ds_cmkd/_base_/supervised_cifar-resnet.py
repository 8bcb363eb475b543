# One of RepDistiller's CIFAR ResNets (mmkd.CifarResNet) supervised on one modality of a
# clean / noisy dataset, as an mmkd.Distiller without a teacher (the runner, hooks and
# exported student of the distilled rows): the clean teachers and noisy baselines of
# configs/ds_cmkd/datasets/. A leaf lists its dataset base before this one and sets the
# arch, the modality it reads, the dataset's class count and its preprocessor (left
# empty here).
_base_ = ['./schedules/sgd_240e.py', '../../_base_/kd_hooks.py']
model = dict(
    type='mmkd.Distiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='mmkd.CifarResNet', arch=None),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=None, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, ))),
    student_input=None,
    data_preprocessor=dict())
