# Structured KD with all three terms: pixel-wise, pair-wise and holistic (a WGAN-GP
# critic on the score maps, lambda_d = 0.1, lambda_gp = 10; critic learning rate 4e-4
# in the authors' code, here the distiller's optimizer with lr_mult 0.4).
_base_ = ['./skd_effnet-b3-unet_synthetic-buildings.py']
model = dict(losses=dict(
    holistic=dict(type='mmkd.SKDHolisticLoss', num_classes=2, loss_weight=0.1,
                  lambda_gp=10.0, inputs=dict(student='s_logits', teacher='t_logits'))))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'critic': dict(lr_mult=0.4)}))
