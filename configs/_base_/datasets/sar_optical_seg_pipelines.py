# The six pipelines of the paired SAR / optical building-segmentation sets
# (spacenet6_sar_optical.py, synthetic_buildings_sar_optical.py): 4-band SAR, RGB
# optical, a building mask (mmkd.LoadSegMask).
#   paired_*   distillation: both images for training, labels in the SAR frame;
#              evaluation reads SAR only (the optical image is never needed at test time)
#   sar_*, optical_*   one modality (baselines, the optical teacher): plain mmseg samples
# The sets differ in how SAR intensity is scaled and in the flip direction: a dataset
# file sets `sar_scale` and `paired_flip` and builds its pipelines from them with
#     (paired_train_pipeline, paired_test_pipeline, sar_train_pipeline,
#      sar_test_pipeline, optical_train_pipeline, optical_test_pipeline) = \
#         _base_.pop('sar_optical_seg_pipelines').build(sar_scale, paired_flip)
# (mmengine drops a config's top-level functions, so the function is kept in a dict;
# popped, it is left in no merged config).


def _build(sar_scale, paired_flip):
    load_sar = dict(type='mmkd.LoadMultiModalImages', modalities=['sar'],
                    channels=dict(sar=4))
    load_optical = dict(type='mmkd.LoadMultiModalImages', modalities=['optical'],
                        channels=dict(optical=3))
    mask = dict(type='mmkd.LoadSegMask')
    pack_paired = dict(type='mmkd.PackMultiModalInputs', task='seg')
    only_sar = dict(type='mmkd.SelectModality', modality='sar')
    only_optical = dict(type='mmkd.SelectModality', modality='optical')
    pack = dict(type='PackSegInputs')
    return (
        [dict(type='mmkd.LoadMultiModalImages', channels=dict(sar=4, optical=3)), mask,
         sar_scale, paired_flip, pack_paired],                     # paired_train
        [load_sar, mask, sar_scale, pack_paired],                  # paired_test
        [load_sar, mask, sar_scale, paired_flip, only_sar, pack],  # sar_train
        [load_sar, mask, sar_scale, only_sar, pack],               # sar_test
        [load_optical, mask, paired_flip, only_optical, pack],     # optical_train
        [load_optical, mask, only_optical, pack],                  # optical_test
    )


sar_optical_seg_pipelines = dict(build=_build)
