# EfficientNet-B3 encoders (mmpretrain's, any band count) with a U-Net decoder, and
# mmseg's U-Net, as mmseg EncoderDecoders: the optical teacher, the SAR baselines and
# the parts DisOptNet is built from. Losses: the authors' seg_loss, cross-entropy + Dice
# with weights 1 and 1 (smp's CrossEntropyLoss and multiclass DiceLoss). Their Dice is
# computed per class and averaged over classes, so the building class counts as much as
# the background; mmseg's DiceLoss pools all classes into one score (dominated by the
# background: a from-scratch EfficientNet then predicts no building for hundreds of
# iterations). mmseg's TverskyLoss with alpha = beta = 0.5 is exactly the per-class soft
# Dice, 2TP / (2TP + FP + FN), averaged over classes (per image, smoothing 1).
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 2
seg_losses = [
    dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    dict(type='TverskyLoss', alpha=0.5, beta=0.5, smooth=1.0, loss_weight=1.0,
         loss_name='loss_dice'),
]
arch = 'b3'
stage_channels = [24, 32, 48, 136, 384]   # EfficientNet-B3 stages 1..5 (strides 2..32)
decoder_channels = (256, 128, 64, 32, 16)  # smp Unet's default

sar_encoder = dict(type='mmkd.EfficientNetEncoder', arch=arch, in_channels=4)
optical_encoder = dict(type='mmkd.EfficientNetEncoder', arch=arch, in_channels=3)
unet_decoder = dict(
    type='mmkd.UNetDecodeHead', in_channels=stage_channels,
    decoder_channels=decoder_channels, num_classes=num_classes, norm_cfg=norm_cfg,
    align_corners=False, loss_decode=seg_losses)

optical_effnet_unet = dict(
    type='EncoderDecoder', backbone=optical_encoder, decode_head=unet_decoder,
    train_cfg=dict(), test_cfg=dict(mode='whole'))
sar_effnet_unet = dict(
    type='EncoderDecoder', backbone=sar_encoder, decode_head=unet_decoder,
    train_cfg=dict(), test_cfg=dict(mode='whole'))
# mmseg's U-Net (fcn_unet_s5-d16 without the auxiliary head), 4 SAR bands
sar_unet = dict(
    type='EncoderDecoder',
    backbone=dict(
        type='UNet', in_channels=4, base_channels=32, num_stages=5,
        strides=(1, 1, 1, 1, 1), enc_num_convs=(2, 2, 2, 2, 2), dec_num_convs=(2, 2, 2, 2),
        downsamples=(True, True, True, True), enc_dilations=(1, 1, 1, 1, 1),
        dec_dilations=(1, 1, 1, 1), norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='InterpConv'), norm_eval=False),
    decode_head=dict(
        type='FCNHead', in_channels=32, in_index=4, channels=32, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=num_classes, norm_cfg=norm_cfg,
        align_corners=False, loss_decode=seg_losses),
    train_cfg=dict(), test_cfg=dict(mode='whole'))

# DisOptNet: SAR encoder, pseudo-optical branch copying the optical model's stages after
# split_stage, one U-Net decoder each, scSE fusion (the test-time output)
disoptnet = dict(
    type='mmkd.DisOptNet',
    backbone=sar_encoder,
    decode_head=unet_decoder,
    pseudo_optical_backbone=optical_encoder,
    pseudo_optical_head=unet_decoder,
    fusion_head=dict(
        type='mmkd.SCSEFusionHead', in_channels=[decoder_channels[-1]] * 2,
        channels=decoder_channels[-1], num_classes=num_classes, norm_cfg=norm_cfg,
        align_corners=False, loss_decode=seg_losses),
    split_stage=3,
    sar_loss_weight=1.0,
    train_cfg=dict(), test_cfg=dict(mode='whole'))
