# hard+mgd-area: hard+mgd with alpha_mgd scaled to this benchmark's input area (issue
# #14; the setting was declared before it was run, 2026-12-04). MGD's loss sums the
# squared error over every channel and position of a level and divides by the batch
# only (MGDLoss), so at 128x128 px it sums 1/65 of the positions it sums at the
# authors' COCO input (1333x800, yzd-v/MGD retina_*_2x). alpha = 2e-5 x 1333 x 800 /
# 128^2 = 1.30e-3 keeps alpha x positions, the term's weight per image, at the
# authors'. lambda_mgd, the generation block and the levels are hard+mgd's.
_base_ = ['./hard+mgd.py']
method = dict(losses={f'mgd_p{lvl}': dict(loss_weight=1.3e-3) for lvl in range(3, 8)})
