# ResNet32x4 teacher on clean images, ShuffleNetV2 student on noisy ones: the
# ShuffleNetV1 pair with the other student. Its taps are the same modules,
# RepDistiller's `feat` list (mmkd.CifarShuffleNetV2 / CifarResNet docstrings), with
# ShuffleNetV2's widths: s_feat1 (N, 116, 16, 16), s_feat2 (N, 232, 8, 8), s_feat3
# (N, 464, 4, 4), s_pool (N, 1024) at 32 px; SEM and the DCM regressor read those.
_base_ = ['./distill_resnet32x4_shufflev1.py']
model = dict(student=dict(_base_.shufflev2, _delete_=True))
sem = dict(student_channels=1024)
dcm_connector = dict(in_channels=232)
