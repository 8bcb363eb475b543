# KD with logit standardisation (Sun et al., CVPR 2024, arXiv:2403.01427) as the authors
# run it for ResNet32x4 -> ResNet8x4 (sunshangquan/logit-standardization-KD, README and
# tools/train.py --logit-stand --base-temp 2 --kd-weight 9): logits z-scored per
# sample, base temperature 2 (not KD's 4), KD weight 9. CE weight 1: that script leaves
# it to cfg.py, whose readable version (commit 2ba3954) has KD.LOSS.CE_WEIGHT = 1.
_base_ = ['../kd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(
    losses=dict(kd=dict(temperature=2.0, loss_weight=9.0, logit_standardize=True)),
    student_loss_weight=1.0)
