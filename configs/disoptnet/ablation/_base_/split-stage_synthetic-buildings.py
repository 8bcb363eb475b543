# Split-position ablation of DisOptNet on the synthetic benchmark: the k = 3 config with
# another split_stage k (stages 0..k shared; the pseudo-optical branch copies the
# teacher's stages k+1..5). The pixel-wise KL stays as at k = 3; the feature L2 matches
# the decoder feature and each copied stage, each with weight beta / (the number
# matched, 6 - k, which a leaf records as `_matched`), relative to the teacher's energy;
# alpha, beta, the temperature and both reductions are k = 3's.
# `split_stage_ablation` holds that objective for each k: a leaf sets split_stage and
# moves its entry into the model with
#   model = dict(student=dict(split_stage=split_stage),
#                **_base_.pop('split_stage_ablation')[f'k{split_stage}'])
# (popping it leaves no such key in the merged config). `_delete_` drops k = 3's taps
# and losses.
_base_ = ['../../disoptnet_effnet-b3-unet_k3_synthetic-buildings.py']
split_stage_ablation = {
    f'k{k}': dict(
        taps=dict(
            _delete_=True,
            s_logits='student.pseudo_optical_head.conv_seg',
            t_logits='teacher.decode_head.conv_seg',
            s_decoder=dict(model='student', path='pseudo_optical_head.conv_seg',
                           io='input'),
            t_decoder=dict(model='teacher', path='decode_head.conv_seg', io='input'),
            **{f'{side}_stage{i}': f'{model}.layers.{i}' for i in range(k + 1, 6)
               for side, model in (('s', 'student.pseudo_optical_backbone'),
                                   ('t', 'teacher.backbone'))}),
        losses=dict(
            _delete_=True,
            pixel_kl=dict(type='mmkd.KDLoss', temperature=_base_.temperature,
                          loss_weight=_base_.alpha, reduction=_base_.pixel_kl_reduction,
                          inputs=dict(student='s_logits', teacher='t_logits')),
            **{f'l2_{feat}': dict(type='mmkd.FeatureMSELoss',
                                  loss_weight=_base_.beta / (6 - k),
                                  reduction=_base_.l2_reduction,
                                  inputs=dict(student=f's_{feat}', teacher=f't_{feat}'))
               for feat in ['decoder'] + [f'stage{i}' for i in range(k + 1, 6)]}))
    for k in range(1, 5)}
