# Optical foundation teacher -> SAR student on CIFAR-10 EO / simulated SAR: the frozen
# DINOv2 ViT-S/14 of _base_/dinov2-s_resnet18.py reads the RGB EO image at 224 px, the
# ResNet-18 student its simulated-SAR partner at 48 px. Not measured (README: no
# weights can be downloaded in the environment these configs were written in).
_base_ = [
    '../_base_/datasets/cifar10_eo_simsar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
    './_base_/dinov2-s_resnet18.py',
]
model = dict(
    # EO with the teacher's normalisation (RGB); SAR as in the dataset base
    data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(
            eo=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10,
                    mean={{_base_.teacher_mean}}, std={{_base_.teacher_std}}, to_rgb=True),
            sar={{_base_.paired_preprocessor.preprocessors.sar}}),
        num_classes=10))
# the teacher reads EO at 224 px; SAR stays at 48 px. Validation runs the student alone,
# on SAR: its pipeline is the base's.
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(eo='color')),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmkd.SimulateSAR', source='eo', target='sar', looks=1, downsample=2),
    dict(type='mmkd.PairedResize', sizes=dict(eo=224, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
