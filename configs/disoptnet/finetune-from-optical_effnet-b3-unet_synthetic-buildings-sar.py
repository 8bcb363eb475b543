# Comparison row "fine-tuning": the SAR EfficientNet-B3 U-Net starts from the optical
# teacher's weights (all but the stem convolution, which has 4 SAR bands instead of 3
# RGB ones: skipped with a size-mismatch warning) and is trained on SAR.
_base_ = ['./effnet-b3-unet_synthetic-buildings-sar.py']
load_from = 'work_dirs/effnet-b3-unet_synthetic-buildings-optical_teacher/iter_1000.pth'
