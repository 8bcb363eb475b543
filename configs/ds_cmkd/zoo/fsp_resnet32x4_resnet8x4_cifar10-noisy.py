# FSP (Yim et al., CVPR 2017) as RepDistiller runs it (--distill fsp): an initialisation
# stage of 30 epochs trains the student's feature layers on the FSP matrices of
# feat[:-1] (stem and the three stages; weight 1, no CE), then the usual 240 epochs
# train on CE alone (RepDistiller's loss_kd is 0 for FSP). Both stages run in one
# mmengine run: the FSP loss is on in epochs [0, 30), the task loss from epoch 30 (while
# off it is dropped, so the classifier is not updated, as in RepDistiller's init stage),
# and the lr schedule is shifted by 30 epochs (constant 0.05 during the init stage).
# Difference: the SGD momentum buffers carry over (RepDistiller builds a new optimiser).
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
init_epochs = 30
model = dict(
    losses=dict(fsp=dict(type='mmkd.FSPLoss', loss_weight=1.,
                         inputs=dict(student=['s_feat0', 's_feat1', 's_feat2', 's_feat3'],
                                     teacher=['t_feat0', 't_feat1', 't_feat2', 't_feat3']),
                         schedule=dict(end=init_epochs, by_epoch=True))),
    student_loss_schedule=dict(begin=init_epochs, by_epoch=True),
    data_preprocessor={{_base_.paired_preprocessor}})
train_cfg = dict(max_epochs=init_epochs + 240)
param_scheduler = dict(milestones=[init_epochs + 150, init_epochs + 180, init_epochs + 210])
# the classifier gets no gradient in the init stage: DDP must allow unused parameters
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
