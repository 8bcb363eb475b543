# Student with all the detection-KD study's modifications, and the study grid's "hard"
# baseline: the study's teacher (retinanet_r50-pafpn-study_synthetic-det_teacher.py: no
# stem max-pool, context-enhancement module in front of the neck, 2 conv blocks per head
# subnet, Balanced L1 boxes, QFL on IoU targets) with ResNet-18 + FPN. mmkd types:
# loading this model needs mmkd installed.
_base_ = ['./retinanet_r50-pafpn-study_synthetic-det_teacher.py']
model = dict(
    backbone=dict(depth=18),  # the student body in place of R50-PAFPN
    neck=[dict(_base_.model.neck[0], in_channels=[64, 128, 256, 512]),  # ResNet-18's C2-C5
          dict(_base_.model.neck[1], type='FPN')])
