# Optical foundation teacher -> SAR student, the distiller without its data: a frozen
# DINOv2 ViT-S/14 reads the optical image (`eo`, at 224 px: a 16x16 patch grid) and
# teaches a CIFAR-style ResNet-18 that reads the SAR image of the same sample (1 band,
# 48 px). The loss: the student's layer3 (256 channels, 12x12), projected to the
# teacher's 384 channels, against the teacher's patch tokens laid out as a map and
# resized to 12x12 (FeatureMSELoss, each map standardised); plus the student's CE.
# A leaf adds the data (and its data_preprocessor with the teacher's mean/std on EO).
#
# Teacher weights: mmpretrain's DINOv2 ViT-S/14 checkpoint (its URL is in mmpretrain's
# configs/dinov2/metafile.yml), as `checkpoint=`; it loads strictly (every key of the
# headless ImageClassifier, `backbone.*`). `init_cfg` on a frozen teacher does nothing
# (the runner never initialises it) and `load_from` loads the distiller, i.e. the
# student: use `checkpoint=`. The student may start from weights of its own with
# `init_cfg=dict(type='Pretrained', checkpoint=...)` on its backbone.
num_classes = 10
teacher_dims = 384  # ViT-S embed_dims
model = dict(
    type='mmkd.Distiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, in_channels=1),  # stride-1 stem
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, ))),
    student_input='sar',
    teacher=dict(
        # mmpretrain's headless config: VisionTransformer arch='dinov2-small', patch 14,
        # img_size 518 (its position embedding is resized to the input's grid)
        model='mmpretrain::dinov2/vit-small-p14_dinov2-pre_headless.py',
        input='eo',
        checkpoint='checkpoints/vit-small-p14_dinov2-pre_3rdparty_20230426-5641ca5a.pth',
        amp=None),  # 'bf16' on a GPU halves the teacher's cost
    taps=dict(
        # the last layer's tokens after the final norm, (N, 1 + 16 * 16, 384), whatever
        # the backbone's out_type is
        t_tokens='teacher.backbone.ln1',
        s_feat='student.backbone.layer3'),
    connectors=dict(
        # teacher side, no parameter: drop the class token (the count is read from the
        # ViT), lay the 16x16 grid out, resize it bilinearly to layer3's 12x12
        t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens', like='s_feat',
                   in_channels=teacher_dims),
        # student side, trained and dropped at export: 256 -> 384 channels
        s_proj=dict(type='mmkd.ConvConnector', source='s_feat', in_channels=256,
                    out_channels=teacher_dims, norm_cfg=dict(type='BN'))),
    losses=dict(
        feat=dict(type='mmkd.FeatureMSELoss', normalize='layer', loss_weight=1.0,
                  inputs=dict(student='s_proj', teacher='t_map'))))
# DINOv2's (ImageNet's) normalisation, RGB order
teacher_mean = [123.675, 116.28, 103.53]
teacher_std = [58.395, 57.12, 57.375]
