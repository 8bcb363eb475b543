# What every cell of the *cross-modal* detection-KD grid shares: the frozen R50-PAFPN
# teacher of the grid, trained on the optical rendering, teaches the R18-FPN student that
# reads the infrared rendering of the same scene (one set of boxes). A cell adds its
# connectors (3x3 adaptation convs, one per FPN level) and losses.
#   data: ./paired_optical_infrared_data.py (mmkd.PairedCocoDataset reads both
#         renderings of each COCO image entry, optical/<file_name> and
#         infrared/<file_name>; paired flips move both images and the boxes together;
#         each modality is normalised by its own mmdet DetDataPreprocessor; validation
#         and testing read the infrared image only), shared with LD's cross-modal config
#         (../../ld/ld_gfl_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py).
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
# The exported student is a plain mmdet RetinaNet whose config reads infrared/ with
# mmdet's CocoDataset.
_base_ = ['../retinanet_r18-fpn_synthetic-det-infrared.py',
          '../../_base_/retinanet_taps.py',
          '../../../_base_/kd_hooks.py',
          './paired_optical_infrared_data.py']
_pd = _base_.pop('paired_data')  # no top-level variable naming mmkd types is left

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    student_input='infrared',
    teacher=dict(
        model='{{ fileDirname }}/../../retinanet_r50-pafpn_synthetic-det_teacher.py',
        input='optical',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_synthetic-det_teacher'),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
    data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(optical=_pd.optical_preprocessor,
                           infrared=_pd.infrared_preprocessor),
        ref_modality='infrared'),  # the boxes' frame and batch metadata: the student's
)
train_dataloader = dict(dataset=dict(
    _delete_=True, data_root=_base_.data_root, metainfo=_base_.metainfo,
    **_pd.train_dataset))
val_dataloader = dict(dataset=dict(
    _delete_=True, data_root=_base_.data_root, metainfo=_base_.metainfo,
    **_pd.val_dataset))
test_dataloader = val_dataloader
del _pd
