"""The CIFAR backbones of RepDistiller (mmkd/models/backbones) against the reference.

Reference numbers are RepDistiller's models (github.com/HobbitLong/RepDistiller,
``models/*.py``) with ``num_classes=100``: ``sum(p.numel() for p in
model.parameters())``, counted layer by layer from those definitions. Rounded to
millions they are the sizes the distillation papers report (resnet56 0.86M,
resnet32x4 7.43M, vgg13 9.46M, wrn_40_2 2.26M, MobileNetV2 0.81M, ShuffleV1 0.95M...).
"""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle
from mmpretrain.registry import MODELS

from mmkd.models.distillers import TapRecorder

REFERENCE_PARAMS = {
    'resnet8': 83892,
    'resnet14': 181108,
    'resnet20': 278324,
    'resnet32': 472756,
    'resnet44': 667188,
    'resnet56': 861620,
    'resnet110': 1736564,
    'resnet8x4': 1233540,
    'resnet32x4': 7433860,
    'vgg8': 3965028,
    'vgg11': 9277284,
    'vgg13': 9462180,
    'vgg16': 14774436,
    'vgg19': 20086692,
    'wrn_16_1': 180916,
    'wrn_16_2': 703284,
    'wrn_40_1': 569780,
    'wrn_40_2': 2255156,
    'mobile_half': 812836,
    'ShuffleV1': 949258,
    'ShuffleV2': 1355528,
}


def backbone_cfg(name, **kwargs):
    """The backbone config of a RepDistiller model name."""
    if name.startswith('resnet'):
        cfg = dict(type='mmkd.CifarResNet', arch=name)
    elif name.startswith('vgg'):
        cfg = dict(type='mmkd.CifarVGG', arch=name)
    elif name.startswith('wrn'):
        cfg = dict(type='mmkd.CifarWRN', arch=name)
    else:
        cfg = dict(type={'mobile_half': 'mmkd.CifarMobileNetV2',
                         'ShuffleV1': 'mmkd.CifarShuffleNetV1',
                         'ShuffleV2': 'mmkd.CifarShuffleNetV2'}[name])
    return dict(cfg, **kwargs)


def feature_channels(name):
    """Channels of the features the reference's classifier pools."""
    return {'resnet8x4': 256, 'resnet32x4': 256, 'wrn_16_2': 128, 'wrn_40_2': 128,
            'mobile_half': 1280, 'ShuffleV1': 960, 'ShuffleV2': 1024
            }.get(name, 512 if name.startswith('vgg') else 64)


def classifier_cfg(name, num_classes=100, **backbone_kwargs):
    return dict(
        type='ImageClassifier',
        backbone=backbone_cfg(name, **backbone_kwargs),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=feature_channels(name)))


@pytest.mark.parametrize('name', list(REFERENCE_PARAMS))
def test_parameter_count_equals_repdistiller(name):
    torch.manual_seed(0)
    model = MODELS.build(classifier_cfg(name))
    assert sum(p.numel() for p in model.parameters()) == REFERENCE_PARAMS[name]


STAGE_SHAPES = {  # (C, H, W) of every stage at 32x32 input
    'resnet20': [(16, 32, 32), (32, 16, 16), (64, 8, 8)],
    'resnet8x4': [(64, 32, 32), (128, 16, 16), (256, 8, 8)],
    'vgg8': [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4), (512, 4, 4)],
    'wrn_16_1': [(16, 32, 32), (32, 16, 16), (64, 8, 8), (64, 8, 8)],
    'wrn_40_2': [(32, 32, 32), (64, 16, 16), (128, 8, 8), (128, 8, 8)],
    'mobile_half': [(8, 16, 16), (12, 16, 16), (16, 8, 8), (32, 4, 4), (48, 4, 4),
                    (80, 2, 2), (160, 2, 2), (1280, 2, 2)],
    'ShuffleV1': [(240, 16, 16), (480, 8, 8), (960, 4, 4)],
    'ShuffleV2': [(116, 16, 16), (232, 8, 8), (464, 4, 4), (1024, 4, 4)],
}


@pytest.mark.parametrize('name', list(STAGE_SHAPES))
def test_stage_output_shapes(name):
    shapes = STAGE_SHAPES[name]
    x = torch.randn(2, 3, 32, 32)
    every = MODELS.build(backbone_cfg(name, out_indices=list(range(len(shapes))))).eval()
    default = MODELS.build(backbone_cfg(name)).eval()
    with torch.no_grad():
        outs = every(x)
        assert isinstance(outs, tuple)
        assert [tuple(o.shape) for o in outs] == [(2, ) + s for s in shapes]
        assert every.out_channels == tuple(s[0] for s in shapes)
        last = default(x)  # default: the last stage only
        assert len(last) == 1 and tuple(last[0].shape) == (2, ) + shapes[-1]
        picked = MODELS.build(backbone_cfg(name, out_indices=(0, -1)))(x)
        assert [tuple(o.shape[1:]) for o in picked] == [shapes[0], shapes[-1]]


# Documented taps: RepDistiller's feat[i] -> module path, with the expected (C, H, W).
FEAT_TAPS = {
    'resnet20': {'student.backbone.relu': (16, 32, 32),
                 'student.backbone.layer1': (16, 32, 32),
                 'student.backbone.layer3': (64, 8, 8), 'student.neck[-1]': (64, )},
    'vgg8': {'student.backbone.block0': (64, 32, 32),
             'student.backbone.block4': (512, 4, 4), 'student.neck[-1]': (512, )},
    'wrn_40_2': {'student.backbone.conv1': (16, 32, 32),
                 'student.backbone.block1': (32, 32, 32),
                 'student.backbone.block3': (128, 8, 8), 'student.neck[-1]': (128, )},
    'mobile_half': {'student.backbone.conv1': (16, 16, 16),
                    'student.backbone.blocks.1': (12, 16, 16),
                    'student.backbone.blocks.2': (16, 8, 8),
                    'student.backbone.blocks.4': (48, 4, 4),
                    'student.backbone.blocks.6': (160, 2, 2),
                    'student.neck[-1]': (1280, )},
    'ShuffleV1': {'student.backbone.relu': (24, 32, 32),
                  'student.backbone.layer2': (480, 8, 8), 'student.neck[-1]': (960, )},
    'ShuffleV2': {'student.backbone.relu': (24, 32, 32),
                  'student.backbone.layer3': (464, 4, 4), 'student.neck[-1]': (1024, )},
}

# Pre-activation taps: (tap, stage index it precedes, relation).
#   'relu':         relu(tap) == stage output
#   'relu_shuffle': channel_shuffle(relu(tap), 2) == stage output (ShuffleV2's blocks)
#   'bn':           tap == the next layer's BN applied to the stage output (WRN)
PREACT_TAPS = {
    'resnet20': [('student.backbone.layer1.2.preact', 0, 'relu'),
                 ('student.backbone.layer2.2.preact', 1, 'relu'),
                 ('student.backbone.layer3.2.preact', 2, 'relu')],
    'vgg8': [(f'student.backbone.block{k}.preact', k, 'relu') for k in range(5)],
    'wrn_40_2': [('student.backbone.block2.layer.0.preact', 0, 'bn'),
                 ('student.backbone.block3.layer.0.preact', 1, 'bn'),
                 ('student.backbone.preact', 2, 'bn'),
                 ('student.backbone.preact', 3, 'relu')],
    'mobile_half': [('student.backbone.conv2.preact', 7, 'relu')],
    'ShuffleV1': [('student.backbone.layer1.3.preact', 0, 'relu'),
                  ('student.backbone.layer2.7.preact', 1, 'relu'),
                  ('student.backbone.layer3.3.preact', 2, 'relu')],
    'ShuffleV2': [('student.backbone.layer1.3.preact', 0, 'relu_shuffle'),
                  ('student.backbone.layer2.7.preact', 1, 'relu_shuffle'),
                  ('student.backbone.layer3.3.preact', 2, 'relu_shuffle'),
                  ('student.backbone.preact', 3, 'relu')],
}
WRN_NEXT_BN = {0: 'block2.layer.0.bn1', 1: 'block3.layer.0.bn1', 2: 'bn1'}


@pytest.mark.parametrize('name', list(PREACT_TAPS))
def test_feature_and_preact_taps(name):
    torch.manual_seed(0)
    num_stages = len(STAGE_SHAPES[name])
    model = MODELS.build(classifier_cfg(
        name, num_classes=10, out_indices=list(range(num_stages))))
    model.train()
    with torch.no_grad():  # non-trivial BN statistics, then compare in eval mode
        model.extract_feat(torch.randn(4, 3, 32, 32) * 2 + 0.5)
    model.eval()
    taps = {f'f{i}': t for i, t in enumerate(FEAT_TAPS[name])}
    taps.update({f'p{i}': t for i, (t, _, _) in enumerate(PREACT_TAPS[name])})
    taps['outs'] = 'student.backbone'
    recorder = TapRecorder(taps, dict(student=model))
    with torch.no_grad(), recorder.recording():
        logits = model(torch.randn(2, 3, 32, 32), mode='tensor')
    feats = recorder.features()
    outs = feats['outs']
    assert logits.shape == (2, 10) and len(outs) == num_stages

    for i, (tap, shape) in enumerate(FEAT_TAPS[name].items()):
        assert tuple(feats[f'f{i}'].shape) == (2, ) + shape, tap
    for i, (tap, stage, relation) in enumerate(PREACT_TAPS[name]):
        pre, out = feats[f'p{i}'], outs[stage]
        assert pre.min() < 0, f'{tap} holds no negative value: not before a ReLU'
        if relation == 'relu':
            torch.testing.assert_close(F.relu(pre), out, rtol=0, atol=0, msg=tap)
        elif relation == 'relu_shuffle':
            torch.testing.assert_close(channel_shuffle(F.relu(pre), 2), out, rtol=0,
                                       atol=0, msg=tap)
        else:
            bn = model.backbone.get_submodule(WRN_NEXT_BN[stage])
            torch.testing.assert_close(pre, bn(out), msg=tap)


# Parameter names and shapes of the reference, so its checkpoints load (backbone keys
# prefixed with 'backbone.'); absent keys must be absent here too.
REFERENCE_KEYS = {
    'resnet8x4': {'conv1.weight': (32, 3, 3, 3), 'bn1.weight': (32, ),
                  'layer1.0.conv1.weight': (64, 32, 3, 3),
                  'layer1.0.downsample.0.weight': (64, 32, 1, 1),
                  'layer1.0.downsample.1.running_var': (64, ),
                  'layer3.0.conv2.weight': (256, 256, 3, 3)},
    'resnet20': {'layer1.0.downsample.0.weight': None,
                 'layer2.0.downsample.0.weight': (32, 16, 1, 1),
                 'layer3.2.bn2.bias': (64, )},
    'vgg13': {'block0.0.weight': (64, 3, 3, 3), 'block0.0.bias': (64, ),
              'block0.1.weight': (64, ), 'block0.3.weight': (64, 64, 3, 3),
              'block1.4.running_mean': (128, ), 'block4.3.weight': (512, 512, 3, 3)},
    'wrn_40_2': {'conv1.weight': (16, 3, 3, 3), 'block1.layer.0.bn1.weight': (16, ),
                 'block1.layer.0.conv1.weight': (32, 16, 3, 3),
                 'block1.layer.0.convShortcut.weight': (32, 16, 1, 1),
                 'block1.layer.1.convShortcut.weight': None,
                 'block3.layer.5.conv2.weight': (128, 128, 3, 3), 'bn1.weight': (128, )},
    'wrn_16_1': {'block1.layer.0.convShortcut.weight': None,
                 'block2.layer.0.convShortcut.weight': (32, 16, 1, 1)},
    'mobile_half': {'conv1.0.weight': (16, 3, 3, 3), 'conv1.1.weight': (16, ),
                    'blocks.0.0.conv.0.weight': (16, 16, 1, 1),
                    'blocks.0.0.conv.3.weight': (16, 1, 3, 3),
                    'blocks.0.0.conv.6.weight': (8, 16, 1, 1),
                    'blocks.6.0.conv.7.weight': (160, ),
                    'conv2.0.weight': (1280, 160, 1, 1), 'conv2.1.weight': (1280, )},
    'ShuffleV1': {'conv1.weight': (24, 3, 1, 1),
                  'layer1.0.conv1.weight': (54, 24, 1, 1),
                  'layer1.0.conv2.weight': (54, 1, 3, 3),
                  'layer1.0.conv3.weight': (216, 18, 1, 1),
                  'layer1.1.conv1.weight': (60, 80, 1, 1),
                  'layer2.0.conv3.weight': (240, 20, 1, 1),
                  'layer3.3.bn3.weight': (960, )},
    'ShuffleV2': {'layer1.0.conv1.weight': (24, 1, 3, 3),
                  'layer1.0.conv2.weight': (58, 24, 1, 1),
                  'layer1.0.conv4.weight': (58, 1, 3, 3),
                  'layer1.0.conv5.weight': (58, 58, 1, 1),
                  'layer1.1.conv1.weight': (58, 58, 1, 1),
                  'layer1.3.bn3.weight': (58, ),
                  'conv2.weight': (1024, 464, 1, 1), 'bn2.weight': (1024, )},
}


@pytest.mark.parametrize('name', list(REFERENCE_KEYS))
def test_parameter_names_follow_the_reference(name):
    state = MODELS.build(backbone_cfg(name)).state_dict()
    for key, shape in REFERENCE_KEYS[name].items():
        if shape is None:
            assert key not in state, key
        else:
            assert tuple(state[key].shape) == shape, key


def test_options():
    x1 = torch.randn(2, 1, 32, 32)  # single-band input (SAR)
    assert MODELS.build(dict(type='mmkd.CifarResNet', arch='resnet8',
                             in_channels=1))(x1)[0].shape == (2, 64, 8, 8)
    vgg = MODELS.build(dict(type='mmkd.CifarVGG', arch='vgg8', out_indices=(3, 4)))
    # the reference pools before the last stage only for 64x64 inputs
    assert [o.shape[-1] for o in vgg(torch.randn(1, 3, 64, 64))] == [8, 4]
    vgg.pool_before_last = True
    assert [o.shape[-1] for o in vgg(torch.randn(1, 3, 32, 32))] == [4, 2]
    custom = MODELS.build(dict(type='mmkd.CifarResNet',
                               arch=dict(depth=14, channels=(8, 8, 16, 32))))
    assert custom(torch.randn(1, 3, 32, 32))[0].shape == (1, 32, 8, 8)
    wrn = MODELS.build(dict(type='mmkd.CifarWRN', arch=dict(depth=10, widen_factor=4)))
    assert wrn(torch.randn(1, 3, 32, 32))[0].shape == (1, 256, 8, 8)


@pytest.mark.parametrize('cfg, match', [
    (dict(type='mmkd.CifarResNet', arch='resnet18'), 'unknown arch'),
    (dict(type='mmkd.CifarResNet', arch=dict(depth=18, channels=(16, 16, 32, 64))),
     '6n\\+2'),
    (dict(type='mmkd.CifarResNet', out_indices=(3, )), r'\[0, 2\]'),
    (dict(type='mmkd.CifarVGG', arch='vgg10'), 'unknown arch'),
    (dict(type='mmkd.CifarWRN', arch=dict(depth=20, widen_factor=2)), '6n\\+4'),
    (dict(type='mmkd.CifarMobileNetV2', out_indices=8), r'\[0, 7\]'),
    (dict(type='mmkd.CifarShuffleNetV2', widen_factor=0.75), 'widen_factor'),
])
def test_errors_name_the_problem(cfg, match):
    with pytest.raises((KeyError, ValueError), match=match):
        MODELS.build(cfg)


def test_distiller_hints_on_preact_taps(teacher_ckpt):
    """FitNets-style hints between a resnet8x4 teacher and a resnet8 student, read
    from RepDistiller's pre-activation feature of stage 2 (its default hint layer)."""
    from conftest import batch

    from mmkd.models.distillers import Distiller

    def classifier(arch, channels):
        return dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmkd.CifarResNet', arch=arch, in_channels=1),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=channels),
            data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10,
                                   mean=[0.], std=[255.], to_rgb=False))

    teacher = classifier('resnet8x4', 256)
    distiller = Distiller(
        student=classifier('resnet8', 64),
        teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
        taps=dict(s_hint='student.backbone.layer2.0.preact',
                  t_hint='teacher.backbone.layer2.0.preact'),
        connectors=dict(s_adapted=dict(type='mmkd.ConvConnector', source='s_hint',
                                       like='t_hint', in_channels=32, out_channels=128,
                                       kernel_size=3)),
        losses=dict(hint=dict(type='mmkd.FeatureMSELoss',
                              inputs=dict(student='s_adapted', teacher='t_hint'))))
    data = distiller.data_preprocessor(batch(n=2, channels=1), True)
    losses = distiller.loss(**data)
    assert torch.isfinite(losses['loss_hint']) and losses['loss_hint'] > 0
