# A same-modality teacher: ResNet32x4 supervised on the *noisy* images, the student's own
# modality: configs/ds_cmkd/resnet32x4_cifar10-clean_teacher.py reading the other image
# of the pair. With the clean teacher it makes the two-teacher, two-modality pair of
# mtkd-*_resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py: each teacher reads its own
# modality of the paired batch, the student the noisy one.
_base_ = ['../ds_cmkd/resnet32x4_cifar10-clean_teacher.py']

model = dict(student_input='noisy')
