# Comparison row "CWD" (channel-wise distillation, Shu et al., ICCV 2021): the SAR
# EfficientNet-B3 U-Net learns from the frozen optical teacher by matching, for each class
# channel of the logits, its spatial distribution (softmax over the positions at
# temperature tau) to the teacher's, KL teacher -> student, summed over positions and
# averaged over images and channels, times tau^2. The authors' segmentation setting
# (irfanICMLL/TorchDistiller `exp_cwd.sh channel kl 3 4`, PSPNet on Cityscapes): the
# logits, tau = 4, weight 3, with the ground-truth losses at weight 1.
# Not measured on the benchmark yet.
_base_ = './_base_/distill_sar-from-optical_synthetic.py'
model = dict(
    taps=dict(s_logits='student.decode_head.conv_seg',
              t_logits='teacher.decode_head.conv_seg'),
    losses=dict(cwd=dict(type='mmkd.CWDLoss', tau=4.0, loss_weight=3.0,
                         inputs=dict(student='s_logits', teacher='t_logits'))),)
