# DKD with logit standardisation (Sun et al., CVPR 2024, arXiv:2403.01427) as the
# authors run it for ResNet32x4 -> ResNet8x4 (sunshangquan/logit-standardization-KD,
# README and tools/train.py --logit-stand --base-temp 2 --kd-weight 9): logits z-scored
# per sample, alpha and beta of mdistiller's DKD times 9 (alpha 9, beta 72), base
# temperature 2 (not DKD's 4), CE 1, the same 20-epoch linear warm-up.
_base_ = ['./dkd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(
    losses=dict(dkd=dict(alpha=9.0, beta=72.0, temperature=2.0, logit_standardize=True)))
