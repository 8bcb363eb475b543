# The CMKD paper's optimiser: SGD momentum 0.9, lr 0.01 halved every 20 epochs.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='StepLR', step_size=20, gamma=0.5, by_epoch=True)
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=5)
val_cfg = dict()
test_cfg = dict()
