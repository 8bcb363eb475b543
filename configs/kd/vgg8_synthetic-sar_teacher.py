# Second teacher for the two-teacher table (cls_evidence.py mtkd-synthetic): the
# ResNet-34 teacher's config (same chips, schedule, hooks) with RepDistiller's CIFAR
# VGG-8 (mmkd.CifarVGG: five stages of conv-BN-ReLU, no residuals, no downsampling
# stem, 3.9 M parameters) in place of the ResNet-34. At the chips' 32 px it costs about
# as much as the ResNet-34 (whose ImageNet stem reads 8x8 by the first block): ~95 M
# against ~74 M multiply-adds per chip. Its last stage has 512 channels, as the
# ResNet-34's, so the head is the base's.
_base_ = ['./resnet34_synthetic-sar_teacher.py']

model = dict(backbone=dict(_delete_=True, type='mmkd.CifarVGG', arch='vgg8',
                           in_channels=1))
