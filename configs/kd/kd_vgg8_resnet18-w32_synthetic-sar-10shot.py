# Hinton KD from the VGG-8 teacher alone (vgg8_synthetic-sar_teacher.py): the demo's
# few-label KD config (T 4, 0.9 KD + 0.1 CE, 10 chips per class, 60 epochs) with the
# other teacher, so this run and kd_resnet34_resnet18-w32_synthetic-sar-10shot.py differ
# by the teacher alone.
_base_ = ['./kd_resnet34_resnet18-w32_synthetic-sar-10shot.py']

model = dict(teacher=dict(
    model='{{ fileDirname }}/vgg8_synthetic-sar_teacher.py',
    checkpoint='work_dirs/vgg8_synthetic-sar_teacher'))
