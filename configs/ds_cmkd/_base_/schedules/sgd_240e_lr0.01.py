# RepDistiller's schedule for ShuffleNet and MobileNet students: lr 0.01 (its scripts'
# rule for those networks), otherwise as sgd_240e.py.
_base_ = ['./sgd_240e.py']
optim_wrapper = dict(optimizer=dict(lr=0.01))
