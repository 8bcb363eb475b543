"""The written overrides of a run's config: per table what it changes in the shipped
config (networks and widths at the CPU scale, noise, schedule, image size, the method's
variant), and the data, loaders, epochs and checkpointing common to every run."""
import copy

from _evidence_common import load_config

CHANNELS = {'resnet8': (16, 16, 32, 64), 'resnet14': (16, 16, 32, 64),
            'resnet20': (16, 16, 32, 64), 'resnet32': (16, 16, 32, 64),
            'resnet56': (16, 16, 32, 64), 'resnet8x4': (32, 64, 128, 256),
            'resnet32x4': (32, 64, 128, 256)}


# logit-kd rows whose term warms up (mdistiller: linearly over the first 20 of 240
# epochs) -> the loss's name in the config
LOGIT_WARMUP = {'dkd': 'dkd', 'dkd-ls': 'dkd', 'reviewkd': 'reviewkd'}


def warmup_iters(epochs, n_train, batch_size=64):
    """The authors' warm-up, 20 of 240 epochs, as the same share of a run of
    ``epochs`` over ``n_train`` images, in iterations (at least 1)."""
    return max(1, round(epochs * -(-n_train // batch_size) * 20 / 240))


def cifar_resnet_blocks(arch):
    """Blocks per stage of RepDistiller's CIFAR ResNet ``arch`` (depth 6n + 2)."""
    return (int(arch[len('resnet'):].split('x')[0]) - 2) // 6


DS_CMKD_KEYS = ('ds-cmkd', 'ds-cmkd_tproj', 'ds-cmkd_plus', 'sem-only', 'dcm-only',
                'no-dcm-self', 'no-dcm-cross')


def ds_cmkd_overrides(key, config, scale, n_train, role, part=None):
    """The written overrides of one DS-CMKD-table run (a dict of top-level keys): the
    CPU-scale networks and every width that follows them (every teacher's, for a row
    that reads several), the noise level, and the paper's schedule (SGD 0.9, wd 5e-4,
    lr 0.1 -> 1e-6; cosine here). Also the runs of the ``mtkd-noisy`` and ``logit-kd``
    tables, which share this scale (their row variants: the single teachers at the
    sum's KD weight; the warm-ups and ReviewKD's taps and channels)."""
    s_arch = scale['teacher_arch'] if role == 'teacher' else scale['student_arch']
    t_arch = scale['teacher_arch']
    sc, tc = CHANNELS[s_arch], CHANNELS[t_arch]
    model = dict(student=dict(backbone=dict(arch=s_arch), head=dict(in_channels=sc[3])))
    if role != 'teacher' and key != 'baseline':
        net = dict(model=dict(backbone=dict(arch=t_arch), head=dict(in_channels=tc[3])))
        # a row of several teachers (``part['reads']``): each teacher slot at the scale
        slots = sorted(set((part or {}).get('reads', {}).get(key, {})) - {'teacher'})
        if slots:
            model['teachers'] = {slot: copy.deepcopy(net) for slot in slots}
        else:
            model['teacher'] = net
    losses = {}
    if key in DS_CMKD_KEYS:
        d = scale['projector_dim']
        # SEM weighted gamma / d (a mean over the d channels; see the pair's base)
        sem = dict(student_channels=sc[3], teacher_channels=tc[3],
                   projector_dims=(d, d, d), loss_weight=1.0 / d)
        if key == 'ds-cmkd_tproj':
            sem['teacher_projector'] = 'trainable'
        losses['sem'] = sem
        if key == 'ds-cmkd_plus':
            losses['dcm'] = dict(cross_sign='plus')
        if key in ('sem-only', 'dcm-only'):
            full = load_config(config).model.losses
            keep = 'sem' if key == 'sem-only' else 'dcm'
            kept = dict(full[keep].to_dict() if hasattr(full[keep], 'to_dict')
                        else full[keep])
            kept.update(losses.get(keep, {}))
            losses = {'_delete_': True, keep: kept}
    elif key in ('kd_x2', 'kd-noisy_x2'):  # mtkd-noisy: one teacher at the sum's KD weight
        losses['kd'] = dict(loss_weight=1.8)
    elif key in LOGIT_WARMUP:  # logit-kd: the authors' 20-of-240-epoch warm-up, same share
        loss = LOGIT_WARMUP[key]
        losses[loss] = dict(schedule=dict(warmup=warmup_iters(scale['_epochs'], n_train),
                                          by_epoch=False))
        if key == 'reviewkd':  # channels and the teacher's last pre-activation per stage
            losses[loss].update(student_channels=[sc[1], sc[2], sc[3], sc[3]],
                                teacher_channels=[tc[1], tc[2], tc[3], tc[3]])
            last = cifar_resnet_blocks(t_arch) - 1
            model['taps'] = {f't_preact{i}': f'teacher.backbone.layer{i}.{last}.preact'
                             for i in (1, 2, 3)}
    elif key == 'fitnets':
        model['connectors'] = dict(s_feat2_adapted=dict(in_channels=sc[2],
                                                        out_channels=tc[2]))
    elif key == 'vid':
        losses['vid'] = dict(student_channels=sc[1:], teacher_channels=tc[1:])
    elif key == 'crd':
        losses['crd'] = dict(student_channels=sc[3], teacher_channels=tc[3],
                             n_data=n_train,
                             # RepDistiller's 16384 negatives of 50,000, same ratio
                             nce_k=min(16384, n_train * 16384 // 50000))
    elif key == 'semckd':
        losses['semckd'] = dict(student_channels=list(sc[1:]),
                                teacher_channels=list(tc[1:]))
    if losses:
        model['losses'] = losses
    snr = scale['snr']
    return dict(
        model=model,
        train_dataloader=dict(dataset=dict(pipeline={'2': dict(snr=snr)})),
        val_dataloader=dict(dataset=dict(pipeline={'1': dict(snr=snr)})),
        test_dataloader=dict(dataset=dict(pipeline={'1': dict(snr=snr)})),
        optim_wrapper=dict(optimizer=dict(lr=scale['lr'], momentum=0.9,
                                          weight_decay=5e-4)),
        param_scheduler=dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True,
                             T_max=scale['_epochs'], eta_min=1e-6,
                             convert_to_iter_based=True))


IN_CHANNELS = dict(eo=3, sar=1)


def cmkd_overrides(key, config, scale, n_train, role, part):
    """The written overrides of one CMKD-table run: which modality the trained model
    reads (``part['modality']`` = (student, teacher)), CIFAR-stem networks at the CPU
    scale (the shipped ImageNet-stem ResNet-34 with ``--full``), the CMKD-s variant, and
    the paper's schedule shape (SGD 0.01, momentum 0.9, lr halved every third of the
    run, as its "every 20 of 60 epochs")."""
    student_mod, teacher_mod = part['modality']
    mod = teacher_mod if role == 'teacher' else student_mod

    def net(m):
        if not scale.get('arch'):
            return {}
        return dict(backbone=dict(_delete_=True, type='mmkd.CifarResNet', arch=scale['arch'],
                                  in_channels=IN_CHANNELS[m]),
                    head=dict(in_channels=CHANNELS[scale['arch']][3]))
    model = dict(student=dict(net(mod)), student_input=mod)
    if role == 'student' and key != part['methods'][0][0]:
        model['teacher'] = dict(model=net(teacher_mod), input=teacher_mod)
        if not scale.get('arch') and teacher_mod != 'eo':
            raise SystemExit('--full CMKD with a SAR teacher needs a one-band teacher '
                             'config (cmkd-s_resnet34_mavoc.py)')
    if key == 'cmkd-s_hinton':
        model['losses'] = dict(cmkd=dict(alpha=0.5, temperature=4.0,
                                         kl_reduction='sample'))
    # the paper's class-balanced post-processing (k = 4 capped classes, n = N / 10) read
    # beside the plain top-1 on the same predictions: `balanced/accuracy_{before,after}`
    evaluator = [dict(type='Accuracy', topk=(1, )),
                 dict(type='mmkd.BalancedPostProcessMetric', k=4)]
    over = dict(model=model, val_evaluator=evaluator, test_evaluator=evaluator,
                param_scheduler=dict(step_size=max(1, round(scale['_epochs'] / 3))))
    if scale.get('sar_size'):  # SAR read at this size (the shipped 48 px with --full)
        cfg = load_config(config)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            pipe = cfg[loader].dataset.pipeline
            i = next(i for i, t in enumerate(pipe) if t.type == 'mmkd.PairedResize')
            over[loader] = dict(dataset=dict(pipeline={str(i): dict(sizes=dict(
                eo=pipe[i].sizes.eo, sar=scale['sar_size']))}))
    return over


def kd_mstar_overrides(key, config, scale, n_train, role, part):
    """The written overrides of one MSTAR-table run: the shipped configs' cosine
    schedule stretched over the run's epochs and, at the CPU scale, the chips read at
    ``size`` px instead of 64 (the centre 128 px crop is kept)."""
    over = dict(param_scheduler=dict(T_max=scale['_epochs']))
    if scale.get('size'):
        cfg = load_config(config)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            pipe = cfg[loader].dataset.pipeline
            i = next(i for i, t in enumerate(pipe) if t.type == 'Resize')
            over[loader] = dict(dataset=dict(pipeline={
                str(i): dict(scale=(scale['size'], scale['size']))}))
    return over


def kd_synthetic_overrides(key, config, scale, n_train, role, part):
    """The shipped configs' cosine schedule stretched over the run's epochs."""
    return dict(param_scheduler=dict(T_max=scale['_epochs']))


def common_overrides(args, scale, epochs, curve, data):
    """Data (``data`` = train and test dataset overrides), loaders, epochs and
    checkpointing, the same for every run."""
    loader = dict(num_workers=0, persistent_workers=False)
    train = dict(loader, dataset=data[0])
    test = dict(loader, dataset=data[1])
    return dict(
        train_dataloader=train, val_dataloader=test, test_dataloader=test,
        train_cfg=dict(max_epochs=epochs,
                       val_interval=scale.get('val_every', 1) if curve else epochs),
        default_hooks=dict(checkpoint=dict(interval=max(1, epochs // 5), max_keep_ckpts=1,
                                           save_best=None),
                           logger=dict(interval=20)))
