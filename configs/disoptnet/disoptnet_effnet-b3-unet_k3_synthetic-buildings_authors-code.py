# DisOptNet with the objective of the authors' public code (jiankang1991/TGRS_DisOptNet,
# train_st2.py) instead of the paper's, for comparison:
# - the pseudo-optical branch is also trained with CE + Dice against the teacher's
#   argmax (pseudo-labels), besides the soft term;
# - the soft term is CriterionPixelWise: sum over the batch of -p_t log p_s divided by
#   H*W only, i.e. (batch size) x the per-pixel mean; with KL instead of the soft cross-
#   entropy (same gradients) that is KDLoss(T=1, reduction='sum_over_hw'), which the
#   paper-objective config uses too;
# - the features: their code matches only min(#student, #teacher features) pairs (its
#   released teacher returns one feature, so stage 4 would be compared with the decoder
#   output, which cannot run); we match stages 4, 5 and the decoder, averaged, as the
#   commented-out alternative in their model.py does, with their raw nn.MSELoss (mean
#   over every element; the paper-objective config divides each by the teacher's
#   feature energy instead).
_base_ = ['./disoptnet_effnet-b3-unet_k3_synthetic-buildings.py']
model = dict(
    losses=dict(
        pixel_kl=dict(reduction='sum_over_hw'),
        l2_stage4=dict(reduction='mean'),
        l2_stage5=dict(reduction='mean'),
        l2_decoder=dict(reduction='mean'),
        pseudo_label=dict(type='mmkd.PseudoLabelSegLoss', loss_weight=1.0,
                          inputs=dict(student='s_logits', teacher='t_logits'))))
