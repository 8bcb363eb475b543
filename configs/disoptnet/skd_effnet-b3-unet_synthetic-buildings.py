# Comparison row "Structured KD" (Liu et al., CVPR 2019): the SAR EfficientNet-B3 U-Net
# learns from the frozen optical teacher with pixel-wise distillation (KL of the
# per-pixel class distributions, T = 1, weight lambda_pi = 10) and pair-wise
# distillation (similarities between max-pooled nodes of the feature the classifier
# reads, here the U-Net decoder's output as the authors' PSPNet feature before its
# classifier; pool scale 0.5, weight lambda_pa = 1), the authors' defaults. The authors'
# pixel term divides a batch sum by H*W (8 images per GPU in their runs: 8x this
# per-pixel mean). Holistic (adversarial) distillation: skd-holistic_*.py.
_base_ = './_base_/distill_sar-from-optical_synthetic.py'
model = dict(
    taps=dict(s_logits='student.decode_head.conv_seg',
              t_logits='teacher.decode_head.conv_seg',
              s_feat=dict(model='student', path='decode_head.conv_seg', io='input'),
              t_feat=dict(model='teacher', path='decode_head.conv_seg', io='input')),
    losses=dict(
        pixel_wise=dict(type='mmkd.KDLoss', temperature=1.0, loss_weight=10.0,
                        inputs=dict(student='s_logits', teacher='t_logits')),
        pair_wise=dict(type='mmkd.PairWiseSimilarityLoss', scale=0.5, loss_weight=1.0,
                       inputs=dict(student='s_feat', teacher='t_feat'))),)
