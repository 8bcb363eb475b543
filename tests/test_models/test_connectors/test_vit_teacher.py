"""Transformer teachers for CNN students: ViT tokens as maps (TokenToMapConnector), an
RGB teacher's channels from a modality's bands (BandAdapter), and a Distiller training
step with a small random-init mmpretrain VisionTransformer teacher."""
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_classifier
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from mmkd.models.connectors import ConvConnector, TokenToMapConnector
from mmkd.models.connectors.token_to_map import prefix_tokens_of
from mmkd.models.data_preprocessors import BandAdapter
from mmkd.models.distillers import Distiller, build_model

EMBED = 32


def tiny_vit(out_type='cls_token', with_cls_token=True, img_size=32, patch_size=8,
             in_channels=3):
    """A small mmpretrain ViT classifier: 2 layers of width 32, 4x4 patches at 32 px."""
    return dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=EMBED, num_layers=2, num_heads=2,
                                feedforward_channels=64),
                      img_size=img_size, patch_size=patch_size, in_channels=in_channels,
                      out_type=out_type, with_cls_token=with_cls_token),
        neck=None, head=None)


def save(model_cfg, path):
    torch.manual_seed(0)
    model, _, _ = build_model(model_cfg, 'test teacher')
    torch.save({'state_dict': model.state_dict()}, str(path))
    return str(path)


# ------------------------------------------------------------------ token to map
def _tokens(n=2, grid=(3, 3), c=4, prefix=1):
    """Patch token (i, j), channel k holds 100 * i + 10 * j + k; prefix tokens -1e3."""
    h, w = grid
    patches = torch.tensor([[100. * i + 10. * j + k for k in range(c)]
                            for i in range(h) for j in range(w)])
    x = torch.cat([torch.full((prefix, c), -1e3), patches]).expand(n, -1, -1)
    return x.clone(), patches.T.reshape(c, h, w)


def test_tokens_become_the_row_major_patch_grid_without_the_class_token():
    x, expected = _tokens(grid=(3, 3), c=4, prefix=1)
    conn = TokenToMapConnector(in_channels=4, num_prefix_tokens=1)
    out = conn(x)
    assert out.shape == (2, 4, 3, 3)
    assert torch.equal(out[0], expected) and torch.equal(out[1], expected)
    assert (out > -1).all()  # the class token is not in the map


def test_registers_and_a_non_square_grid():
    x, expected = _tokens(grid=(2, 5), c=3, prefix=5)  # class + 4 registers
    out = TokenToMapConnector(in_channels=3, num_prefix_tokens=5, grid=(2, 5))(x)
    assert torch.equal(out[0], expected)


def test_resize_is_bilinear_to_the_like_size_and_projection_gives_the_width():
    x, expected = _tokens(grid=(4, 4), c=4, prefix=1)
    out = TokenToMapConnector(in_channels=4, num_prefix_tokens=1)(x, (8, 8))
    ref = F.interpolate(expected[None], size=(8, 8), mode='bilinear', align_corners=False)
    assert out.shape == (2, 4, 8, 8) and torch.allclose(out[:1], ref)
    conv = TokenToMapConnector(in_channels=4, out_channels=16, num_prefix_tokens=1)
    assert conv(x, (6, 6)).shape == (2, 16, 6, 6)
    assert {type(m).__name__ for m in conv.proj} == {'Conv2d', 'BatchNorm2d'}
    linear = TokenToMapConnector(in_channels=4, out_channels=8, proj='linear',
                                 num_prefix_tokens=1)
    y = linear(x, (2, 2))
    assert y.shape == (2, 8, 2, 2)
    # the linear projection acts per token: at the grid's size, token (i, j) -> (i, j)
    z = linear(x)
    assert torch.allclose(z[0, :, 1, 2], linear.proj(x[0, 1 + 1 * 4 + 2]), atol=1e-5)
    # a ViT 'featmap' output (N, C, h, w) skips the token steps
    assert torch.equal(TokenToMapConnector(in_channels=4)(expected[None]), expected[None])


def test_prefix_tokens_are_read_from_the_mmpretrain_vit():
    with_cls, _, _ = build_model(tiny_vit(), 'vit')
    without, _, _ = build_model(tiny_vit(out_type='raw', with_cls_token=False), 'vit')
    assert prefix_tokens_of(with_cls, 'backbone.layers.1') == 1
    assert prefix_tokens_of(with_cls, 'backbone') == 1
    assert prefix_tokens_of(without, 'backbone.ln1') == 0
    resnet, _, _ = build_model(tiny_classifier(), 'cnn')
    assert prefix_tokens_of(resnet, 'backbone.layer2') is None
    conn = TokenToMapConnector(in_channels=EMBED)
    conn.bind_source('t_tokens', without, 'backbone.ln1')
    assert conn.num_prefix_tokens == 0 and conn.tap == 't_tokens'
    given = TokenToMapConnector(in_channels=EMBED, num_prefix_tokens=5)
    given.bind_source('t_tokens', with_cls, 'backbone.ln1')
    assert given.num_prefix_tokens == 5  # what the config says wins


def test_real_vit_tokens_match_its_own_featmap():
    torch.manual_seed(0)
    cfg = tiny_vit(out_type='featmap')
    vit, _, _ = build_model(cfg, 'vit')
    vit.eval()
    x = torch.randn(2, 3, 32, 32)
    seen = {}
    vit.backbone.ln1.register_forward_hook(lambda m, a, o: seen.__setitem__('t', o))
    with torch.no_grad():
        featmap = vit.backbone(x)[0]
    conn = TokenToMapConnector(in_channels=EMBED)
    conn.bind_source('t_tokens', vit, 'backbone.ln1')
    assert seen['t'].shape == (2, 1 + 16, EMBED)
    assert torch.equal(conn(seen['t']), featmap)


def test_token_errors_name_the_tap():
    conn = TokenToMapConnector(in_channels=4, num_prefix_tokens=0, tap='t_tokens')
    x, _ = _tokens(grid=(3, 3), c=4, prefix=1)  # 10 tokens, 0 dropped: not a square
    with pytest.raises(ValueError, match=r"tap 't_tokens' has 10 tokens, 10 after dropping "
                       r'0 prefix tokens, which is not a square.*grid=\(h, w\)'):
        conn(x)
    with pytest.raises(ValueError, match=r"tap 't_tokens'.*does not match grid=\(2, 4\)"):
        TokenToMapConnector(in_channels=4, num_prefix_tokens=1, grid=(2, 4),
                            tap='t_tokens')(x)
    with pytest.raises(ValueError, match=r"tap 't_tokens' gives tokens of width 4 .*"
                       r'in_channels=8'):
        TokenToMapConnector(in_channels=8, num_prefix_tokens=1, tap='t_tokens')(x)
    with pytest.raises(ValueError, match=r"tap 't_tokens' gives shape \(2, 4\).*class "
                       r'token'):
        TokenToMapConnector(in_channels=4, tap='t_tokens')(x[:, 0])
    with pytest.raises(ValueError, match="proj must be 'conv' or 'linear'"):
        TokenToMapConnector(in_channels=4, out_channels=2, proj='mlp')


# ------------------------------------------------------------------ band adapter
def test_band_adapter_selects_replicates_mixes_and_normalises():
    grey = torch.randn(2, 1, 5, 5)
    rgb = BandAdapter(in_channels=1, bands=[0, 0, 0])(grey)
    assert rgb.shape == (2, 3, 5, 5) and all(torch.equal(rgb[:, c], grey[:, 0])
                                             for c in range(3))
    sar = torch.randn(2, 2, 5, 5)  # VV, VH
    out = BandAdapter(in_channels=2, weights=[[1, 0], [0, 1], [1, -1]])(sar)
    assert torch.allclose(out[:, 2], sar[:, 0] - sar[:, 1], atol=1e-6)
    assert torch.equal(BandAdapter(in_channels=2, bands=[1, 0, 1])(sar)[:, 0], sar[:, 1])
    norm = BandAdapter(in_channels=2, bands=[0, 1, 0], mean=[1., 2., 3.],
                       std=[2., 4., 0.5])(sar)
    assert torch.allclose(norm[:, 1], (sar[:, 1] - 2.) / 4., atol=1e-6)
    assert torch.allclose(norm[:, 2], (sar[:, 0] - 3.) / 0.5, atol=1e-6)
    fixed = BandAdapter(in_channels=2, bands=[0, 1, 0])
    assert not list(fixed.parameters()) and not fixed.state_dict()
    learn = BandAdapter(in_channels=2, bands=[0, 1, 0], learnable=True)
    assert torch.equal(learn(sar), fixed(sar))  # starts at the fixed map
    learn(sar).sum().backward()
    assert learn.weight.grad.abs().sum() > 0


def test_band_adapter_errors_name_the_modality_and_band_count():
    adapter = BandAdapter(in_channels=2, bands=[0, 1, 0], modality='sar')
    with pytest.raises(ValueError, match=r"modality 'sar' has 4 band\(s\), but the "
                       r'adapter maps in_channels=2 to 3'):
        adapter(torch.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match=r'bands \[0, 2\] must index the 2 band'):
        BandAdapter(in_channels=2, bands=[0, 2])
    with pytest.raises(ValueError, match='exactly one of bands'):
        BandAdapter(in_channels=2)
    with pytest.raises(ValueError, match=r'weights must be \(out, in=2\)'):
        BandAdapter(in_channels=2, weights=[[1, 0, 0]])
    with pytest.raises(ValueError, match='mean has 2 values for 3 output channels'):
        BandAdapter(in_channels=1, bands=[0, 0, 0], mean=[0., 0.])


# ------------------------------------------------------------------ the distiller
def paired_batch(n=4, eo_bands=1, sar_bands=2, eo_size=32, sar_size=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [dict(eo=torch.randint(0, 255, (eo_bands, eo_size, eo_size), generator=g,
                                    dtype=torch.uint8),
                   sar=torch.randint(0, 255, (sar_bands, sar_size, sar_size), generator=g,
                                     dtype=torch.uint8)) for _ in range(n)]
    samples = [DataSample().set_gt_label(i % 10) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def preprocessor(eo_bands=1, sar_bands=2):
    return dict(type='mmkd.MultiModalDataPreprocessor', ref_modality='sar',
                preprocessors=dict(
                    eo=dict(type='mmpretrain.ClsDataPreprocessor', mean=[127.] * eo_bands,
                            std=[64.] * eo_bands),
                    sar=dict(type='mmpretrain.ClsDataPreprocessor',
                             mean=[100.] * sar_bands, std=[50.] * sar_bands)))


def vit_distiller(tmp_path, connectors, loss_inputs, adapter=None, **kwargs):
    """A random-init ViT teacher on grey EO (replicated to RGB by a BandAdapter), a
    ResNet-18 (width 8) student on 2 SAR bands, feature MSE at the student's layer2."""
    teacher = tiny_vit()
    student = tiny_classifier(width=8, in_channels=2)
    student.pop('data_preprocessor')
    adapter = adapter or dict(type='mmkd.BandAdapter', in_channels=1, bands=[0, 0, 0])
    return Distiller(
        student=student, student_input='sar',
        teacher=dict(model=teacher, checkpoint=save(teacher, tmp_path / 'vit.pth'),
                     input='eo', input_adapter=adapter),
        taps=dict(t_tokens='teacher.backbone.ln1', s_feat='student.backbone.layer2'),
        connectors=connectors,
        losses=dict(feat=dict(type='mmkd.FeatureMSELoss', inputs=loss_inputs)),
        data_preprocessor=preprocessor(), **kwargs)


def test_distiller_step_with_a_vit_teacher_reaches_connector_and_student(tmp_path):
    torch.manual_seed(0)
    d = vit_distiller(
        tmp_path,
        connectors=dict(
            t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens', like='s_feat',
                       in_channels=EMBED),
            s_proj=dict(type='mmkd.ConvConnector', source='s_feat', in_channels=16,
                        out_channels=EMBED, norm_cfg=dict(type='BN'))),
        loss_inputs=dict(student='s_proj', teacher='t_map'))
    assert d.connectors['t_map'].num_prefix_tokens == 1  # read from the ViT
    assert d.connectors['t_map'].tap == 't_tokens'
    assert not list(d.connectors['t_map'].parameters())  # teacher side: parameter-free
    d.train()
    data = d.data_preprocessor(paired_batch(), True)
    seen = {}
    d.teachers['teacher'].backbone.register_forward_pre_hook(
        lambda m, a: seen.__setitem__('teacher', a[0]))
    losses = d(**data, mode='loss')
    assert seen['teacher'].shape == (4, 3, 32, 32)  # grey EO replicated to RGB
    assert torch.isfinite(losses['loss_feat']) and losses['loss_feat'] > 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in d.teachers['teacher'].parameters())
    conv = d.connectors['s_proj'].conv.conv
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    assert d.student.backbone.conv1.weight.grad.abs().sum() > 0
    # the teacher cache tool's path reads the teacher through the same adapter
    feats = d.teacher_features('teacher', data['inputs'])
    assert feats['t_tokens'][0].shape == (4, 1 + 16, EMBED)
    # and it trains: an optimizer step through the runner's entry point
    optim = build_optim_wrapper(d, dict(optimizer=dict(type='SGD', lr=0.05)))
    before = d.student.backbone.conv1.weight.detach().clone()
    log = d.train_step(paired_batch(seed=1), optim)
    assert torch.isfinite(log['loss_feat'])
    assert not torch.equal(before, d.student.backbone.conv1.weight)


def test_teacher_side_projection_to_the_student_width_is_trained(tmp_path):
    torch.manual_seed(0)
    d = vit_distiller(
        tmp_path,
        connectors=dict(t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens',
                                   like='s_feat', in_channels=EMBED, out_channels=16)),
        loss_inputs=dict(student='s_feat', teacher='t_map'))
    d.train()
    losses = d(**d.data_preprocessor(paired_batch(), True), mode='loss')
    assert torch.isfinite(losses['loss_feat'])
    losses['loss_feat'].backward()
    proj = d.connectors['t_map'].proj[0]
    assert proj.weight.grad is not None and proj.weight.grad.abs().sum() > 0
    assert d.student.backbone.conv1.weight.grad.abs().sum() > 0


def test_a_learnable_adapter_trains_with_a_trainable_teacher():
    """Only a teacher that runs with gradients can train its input adapter."""
    torch.manual_seed(0)
    student = tiny_classifier(width=8, in_channels=2)
    student.pop('data_preprocessor')
    d = Distiller(
        student=student, student_input='sar',
        teacher=dict(model=tiny_vit(), input='eo', trainable=True, task_losses='none',
                     input_adapter=dict(type='mmkd.BandAdapter', in_channels=1,
                                        bands=[0, 0, 0], learnable=True)),
        taps=dict(t_tokens='teacher.backbone.ln1', s_feat='student.backbone.layer2'),
        connectors=dict(t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens',
                                   like='s_feat', in_channels=EMBED, out_channels=16)),
        losses=dict(feat=dict(type='mmkd.FeatureMSELoss',
                              inputs=dict(student='s_feat', teacher='t_map'))),
        data_preprocessor=preprocessor())
    losses = d(**d.data_preprocessor(paired_batch(), True), mode='loss')
    losses['loss_feat'].backward()
    assert d.input_adapters['teacher'].weight.grad.abs().sum() > 0
    assert 'input_adapters.teacher.weight' in d.state_dict()


def test_distiller_band_errors(tmp_path):
    conns = dict(t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens',
                            like='s_feat', in_channels=EMBED, out_channels=16))
    inputs = dict(student='s_feat', teacher='t_map')
    with pytest.raises(ValueError, match=r"teacher 'teacher': its input_adapter has "
                       r'trainable parameters, but a frozen teacher'):
        vit_distiller(tmp_path, conns, inputs, adapter=dict(
            type='mmkd.BandAdapter', in_channels=1, bands=[0, 0, 0], learnable=True))
    with pytest.raises(ValueError, match=r"its input_adapter gives 2 channels, but the "
                       r"teacher's first convolution takes 3"):
        vit_distiller(tmp_path, conns, inputs, adapter=dict(
            type='mmkd.BandAdapter', in_channels=1, bands=[0, 0]))
    d = vit_distiller(tmp_path, conns, inputs)
    data = d.data_preprocessor(paired_batch(eo_bands=3), True)
    with pytest.raises(ValueError, match=r"modality 'eo' has 3 band\(s\), but the adapter "
                       r'maps in_channels=1'):
        d(**data, mode='loss')


def test_a_non_square_token_count_names_the_tap_in_a_step(tmp_path):
    """A teacher run at 32x24 px gives a 4x3 grid: without grid= the step says so."""
    d = vit_distiller(
        tmp_path,
        connectors=dict(t_map=dict(type='mmkd.TokenToMapConnector', source='t_tokens',
                                   like='s_feat', in_channels=EMBED, out_channels=16)),
        loss_inputs=dict(student='s_feat', teacher='t_map'))
    data = d.data_preprocessor(paired_batch(), True)
    data['inputs']['eo'] = data['inputs']['eo'][..., :24]
    with pytest.raises(ValueError, match=r"tap 't_tokens' has 13 tokens, 12 after "
                       r'dropping 1 prefix tokens, which is not a square'):
        d(**data, mode='loss')
    d.connectors['t_map'].grid = (4, 3)
    assert torch.isfinite(d(**data, mode='loss')['loss_feat'])


def test_conv_connector_still_refuses_tokens():
    """The student side: a ConvConnector given tokens says what it expects."""
    with pytest.raises(ValueError, match=r'expects \(N, 32, H, W\)'):
        ConvConnector(32, 16)(torch.randn(2, 17, 32))


@pytest.mark.parametrize('config,eo_bands', [
    ('dinov2-s_resnet18_cifar10_eo2simsar.py', 3), ('dinov2-s_resnet18_mavoc.py', 1)])
def test_shipped_config_steps_with_a_random_dinov2_teacher(tmp_path, config, eo_bands):
    """The worked configs as shipped (random teacher weights in place of DINOv2's): the
    16x16 token grid lands on layer3's 12x12 and the step is finite."""
    import os.path as osp

    from conftest import REPO
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'foundation_teacher', config))
    model_cfg = cfg.model.to_dict()
    model_cfg['teacher']['checkpoint'] = save(model_cfg['teacher']['model'],
                                              tmp_path / 'dinov2.pth')
    torch.manual_seed(0)
    d = Distiller(**{k: v for k, v in model_cfg.items() if k != 'type'})
    assert d.connectors['t_map'].num_prefix_tokens == 1
    d.train()
    data = d.data_preprocessor(paired_batch(n=2, eo_bands=eo_bands, sar_bands=1,
                                            eo_size=224, sar_size=48), True)
    losses = d(**data, mode='loss')
    assert torch.isfinite(losses['loss_feat']) and losses['loss_feat'] > 0
    losses['loss_feat'].backward()
    assert d.student.backbone.conv1.weight.grad.abs().sum() > 0
