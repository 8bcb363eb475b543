# Split-position ablation: DisOptNet with split_stage k = 4 (stages 0..4 shared, the
# pseudo-optical branch copies the teacher's stages 5). Everything else as k = 3.
_base_ = ['../disoptnet_effnet-b3-unet_k3_synthetic-buildings.py']
split_stage = 4
beta = 1.0
_matched = 2  # decoder feature + stages 5
model = dict(
    student=dict(split_stage=split_stage),
    taps=dict(
        _delete_=True,
        s_logits='student.pseudo_optical_head.conv_seg',
        t_logits='teacher.decode_head.conv_seg',
        s_decoder=dict(model='student', path='pseudo_optical_head.conv_seg', io='input'),
        t_decoder=dict(model='teacher', path='decode_head.conv_seg', io='input'),
        s_stage5='student.pseudo_optical_backbone.layers.5',
        t_stage5='teacher.backbone.layers.5',
    ),
    losses=dict(
        _delete_=True,
        pixel_kl=dict(type='mmkd.KDLoss', temperature=1.0, loss_weight=1.0,
                      reduction='sum_over_hw',
                      inputs=dict(student='s_logits', teacher='t_logits')),
        l2_decoder=dict(type='mmkd.FeatureMSELoss', loss_weight=beta / _matched,
                        reduction='relative',
                        inputs=dict(student='s_decoder', teacher='t_decoder')),
        l2_stage5=dict(type='mmkd.FeatureMSELoss', loss_weight=beta / _matched,
                       reduction='relative',
                       inputs=dict(student='s_stage5', teacher='t_stage5')),
    ))
