# RepDistiller's CIFAR schedule (train_student.py / train_teacher.py defaults): SGD lr
# 0.05, momentum 0.9, weight decay 5e-4, 240 epochs, lr x0.1 at epochs 150, 180, 210,
# batch 64 (set in the dataset bases). Validation every epoch (RepDistiller reports the
# best test accuracy over epochs; mmengine logs every epoch's and keeps the best
# checkpoint).
_base_ = ['mmpretrain::_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210],
                       gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1, save_best='auto'),
    logger=dict(type='LoggerHook', interval=100))
