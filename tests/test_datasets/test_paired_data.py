"""Paired multimodal data: layouts, loading, paired transforms, packing, preprocessing."""
import os
import os.path as osp
import random

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO

from mmkd.datasets import PairedClsDataset, UnpairedSampleError
from mmkd.datasets.transforms import (
    LoadMultiModalImages,
    PackMultiModalInputs,
    PairedApply,
    PairedRandomFlip,
    PairedRandomResizedCrop,
    PairedRandomRotate,
    PerModality,
    SARIntensityScale,
    SimulateSAR,
    read_image,
)
from mmkd.datasets.transforms.loading import ImageReadError

SHARED = osp.join(osp.dirname(REPO), 'shared', 'data')


def write_challenge_layout(root, n=6, classes=('a', 'b'), drop_sar=(), labelled=True):
    """EO_<id>.png (30 px) and SAR_<id>.png (48 px), in class folders when labelled."""
    rng = np.random.default_rng(0)
    for i in range(n):
        cls = classes[i % len(classes)]
        for mod, size in (('EO', 30), ('SAR', 48)):
            if mod == 'SAR' and i in drop_sar:
                continue
            folder = osp.join(root, mod, cls) if labelled else osp.join(root, mod)
            os.makedirs(folder, exist_ok=True)
            cv2.imwrite(osp.join(folder, f'{mod}_{100 + i}.png'),
                        rng.integers(0, 255, (size, size), dtype=np.uint8))
    return root


PATTERNS = dict(eo=r'EO_(\d+)\.png', sar=r'SAR_(\d+)\.png')


def test_layout_c_class_subfolders_pairs_by_id(tmp_path):
    root = write_challenge_layout(str(tmp_path))
    ds = PairedClsDataset(modalities=('eo', 'sar'), data_root=root,
                          folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                          class_subfolders=True)
    assert len(ds) == 6 and ds.CLASSES == ('a', 'b')
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        eo, sar = info['img_path']['eo'], info['img_path']['sar']
        assert osp.basename(eo)[3:] == osp.basename(sar)[4:]  # same id
        assert osp.basename(osp.dirname(eo)) == ds.CLASSES[info['gt_label']]
    assert ds.class_counts() == [3, 3]


def test_layout_b_unlabelled_and_label_file(tmp_path):
    root = write_challenge_layout(str(tmp_path), labelled=False)
    ds = PairedClsDataset(modalities=('eo', 'sar'), data_root=root,
                          folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS)
    assert len(ds) == 6 and 'gt_label' not in ds.get_data_info(0)
    with open(osp.join(root, 'labels.csv'), 'w') as f:
        f.write('id,label\n' + ''.join(f'{100 + i},{i % 3}\n' for i in range(6)))
    ds = PairedClsDataset(modalities=('eo', 'sar'), data_root=root,
                          folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                          label_file='labels.csv', classes=['x', 'y', 'z'])
    assert [ds.get_data_info(i)['gt_label'] for i in range(6)] == [0, 1, 2, 0, 1, 2]


def test_layout_a_annotation_files(tmp_path):
    root = write_challenge_layout(str(tmp_path), labelled=False)
    lines = [f'EO/EO_{100 + i}.png SAR/SAR_{100 + i}.png {i % 2}' for i in range(6)]
    (tmp_path / 'ann.txt').write_text('\n'.join(lines))
    ds = PairedClsDataset(modalities=('eo', 'sar'), data_root=root, ann_file='ann.txt')
    assert len(ds) == 6 and ds.get_data_info(3)['gt_label'] == 1
    only_sar = PairedClsDataset(modalities=('sar', ), ann_columns=('eo', 'sar'),
                                data_root=root, ann_file='ann.txt')
    assert list(only_sar.get_data_info(0)['img_path']) == ['sar']
    import json
    (tmp_path / 'ann.json').write_text(json.dumps(
        [dict(eo=f'EO/EO_{100 + i}.png', sar=f'SAR/SAR_{100 + i}.png') for i in range(6)]))
    ds = PairedClsDataset(modalities=('eo', 'sar'), data_root=root, ann_file='ann.json')
    assert len(ds) == 6


def test_unpaired_file_is_an_error_or_a_logged_skip(tmp_path, capsys):
    root = write_challenge_layout(str(tmp_path), drop_sar=(2, ))
    kw = dict(modalities=('eo', 'sar'), data_root=root, folders=dict(eo='EO', sar='SAR'),
              id_patterns=PATTERNS, class_subfolders=True)
    with pytest.raises(UnpairedSampleError, match=r"EO_102\.png \(eo\) has no sar partner"):
        PairedClsDataset(**kw)
    ds = PairedClsDataset(on_unpaired='skip', **kw)
    assert len(ds) == 5 and ds.skipped == {'eo': 1}
    with pytest.raises(FileNotFoundError, match="modality 'sar': folder"):
        PairedClsDataset(**dict(kw, folders=dict(eo='EO', sar='NOPE')))


def test_loading_keeps_sar_dtypes_and_bands(tmp_path):
    import tifffile
    f32 = np.random.default_rng(0).random((4, 20, 20), dtype=np.float32) * 3
    tifffile.imwrite(tmp_path / 'sar4.tif', f32)  # band-first, as GeoTIFF bands read
    u16 = (np.arange(400, dtype=np.uint16) * 100).reshape(20, 20)
    cv2.imwrite(str(tmp_path / 'sar16.png'), u16)
    a = read_image(str(tmp_path / 'sar4.tif'))
    assert a.dtype == np.float32 and a.shape == (20, 20, 4)
    assert np.array_equal(a[..., 2], f32[2])  # band order kept
    b = read_image(str(tmp_path / 'sar16.png'))
    assert b.dtype == np.uint16 and b.max() == 39900
    load = LoadMultiModalImages(channels=dict(sar=1))
    with pytest.raises(ImageReadError, match=r'sar4\.tif \(sar\) has 4 channel\(s\), '
                       r'expected 1'):
        load(dict(img_path=dict(sar=str(tmp_path / 'sar4.tif'))))
    (tmp_path / 'bad.png').write_bytes(b'not a png')
    with pytest.raises(ImageReadError, match='bad.png'):
        read_image(str(tmp_path / 'bad.png'))


def test_sar_intensity_scale_formula():
    x = np.array([[1e-3, 1e-2, 1.0, 0.0]], np.float32)[..., None]
    out = SARIntensityScale(clip=(-25, 5)).scale(x)
    db = np.array([-30, -20, 0, -25], np.float32)  # -30 clipped; 0 intensity = nodata
    expected = (np.clip(db, -25, 5) + 25) / 30 * 255
    assert np.allclose(out[0, :, 0], expected, atol=1e-4)
    amp = SARIntensityScale(mode='db', amplitude=True, clip=(-40, 0)).scale(
        np.array([[[0.1]]], np.float32))
    assert np.isclose(amp.item(), (-20 + 40) / 40 * 255)


def test_simulated_sar_speckle_statistics_and_determinism():
    eo = np.full((64, 64, 3), 128, np.uint8)
    res = dict(img=dict(eo=eo), img_shape=dict(eo=(64, 64)), ori_shape=dict(eo=(64, 64)),
               sample_idx=3)
    out = SimulateSAR(looks=4, downsample=2, deterministic=True)(res)
    sar = out['img']['sar']
    assert sar.shape == (32, 32, 1) and sar.dtype == np.float32
    intensity = (sar[..., 0] / 255.)**2
    assert intensity.mean() == pytest.approx((128 / 255)**2, rel=0.05)  # E[n] = 1
    assert (intensity / (128 / 255)**2).var() == pytest.approx(1 / 4, rel=0.25)  # 1/L
    again = SimulateSAR(looks=4, downsample=2, deterministic=True)(dict(
        res, img=dict(eo=eo), img_shape=dict(eo=(64, 64)), ori_shape=dict(eo=(64, 64))))
    assert np.array_equal(again['img']['sar'], sar)


def _marker_pair():
    """EO 30 px and SAR 48 px of the same scene: a bright block in the top-left quarter,
    and a mask (in SAR's frame) of the same block."""
    eo = np.zeros((30, 30, 1), np.uint8)
    eo[:10, :5] = 255
    sar = np.zeros((48, 48, 1), np.float32)
    sar[:16, :8] = 255.
    mask = np.zeros((48, 48), np.uint8)
    mask[:16, :8] = 1
    return dict(img=dict(eo=eo, sar=sar), img_shape=dict(eo=(30, 30), sar=(48, 48)),
                ori_shape=dict(eo=(30, 30), sar=(48, 48)), ref_modality='sar',
                gt_seg_map=mask, gt_bboxes=np.array([[0, 0, 8, 16]], np.float32))


def _centroid(img):
    ys, xs = np.nonzero(img[..., 0] > 127)
    h, w = img.shape[:2]
    return ys.mean() / h, xs.mean() / w


@pytest.mark.parametrize('seed', range(5))
def test_paired_geometric_transforms_share_their_draws(seed):
    random.seed(seed)
    np.random.seed(seed)
    res = _marker_pair()
    for t in (PairedRandomFlip(prob=0.5, direction=['horizontal', 'vertical']),
              PairedRandomRotate(angles=[0, 90, 180, 270]),
              PairedRandomResizedCrop(sizes=dict(eo=30, sar=48), scale=(0.5, 1.0))):
        res = t(res)
    eo, sar = res['img']['eo'], res['img']['sar']
    assert eo.shape[:2] == (30, 30) and sar.shape[:2] == (48, 48)
    if (eo > 127).any():
        # the marker sits at the same relative place in both modalities
        assert np.allclose(_centroid(eo), _centroid(sar), atol=0.08)
        # the mask follows the reference modality (SAR) pixel for pixel
        overlap = ((sar[..., 0] > 127) == (res['gt_seg_map'] == 1)).mean()
        assert overlap > 0.97
        x1, y1, x2, y2 = res['gt_bboxes'][0]
        ys, xs = np.nonzero(res['gt_seg_map'] == 1)
        # boxes move exactly; the mask is resampled with nearest neighbours (and the
        # crop is rounded to pixels), so allow up to ~2 pixels of discretisation
        assert abs(x1 - xs.min()) <= 2.5 and abs(x2 - xs.max() - 1) <= 2.5
        assert abs(y1 - ys.min()) <= 2.5 and abs(y2 - ys.max() - 1) <= 2.5


def test_flip_is_applied_to_both_or_neither():
    for seed in range(10):
        random.seed(seed)
        res = PairedRandomFlip(prob=0.5)(_marker_pair())
        eo_flipped = res['img']['eo'][0, -1, 0] == 255
        sar_flipped = res['img']['sar'][0, -1, 0] == 255
        assert eo_flipped == sar_flipped == res['flip']


def test_paired_apply_replays_random_policies_and_per_modality_is_one_sided():
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    res = dict(img=dict(eo=img.copy(), sar=img.copy()),
               img_shape=dict(eo=(32, 32), sar=(32, 32)),
               ori_shape=dict(eo=(32, 32), sar=(32, 32)))
    for seed in range(3):
        np.random.seed(seed)
        random.seed(seed)
        out = PairedApply([dict(type='mmpretrain.RandAugment', policies='timm_increasing',
                                num_policies=3, magnitude_level=9)])(
            {k: (dict(v) if isinstance(v, dict) else v) for k, v in res.items()})
        assert np.array_equal(out['img']['eo'], out['img']['sar'])
    one = PerModality('sar', [dict(type='mmpretrain.ColorJitter', brightness=0.9)])(
        {k: (dict(v) if isinstance(v, dict) else v) for k, v in res.items()})
    assert np.array_equal(one['img']['eo'], img)


def test_pack_and_multimodal_preprocessor_normalise_each_modality():
    from mmkd.models.data_preprocessors import MultiModalDataPreprocessor
    res = _marker_pair()
    res['gt_label'] = 1
    packed = PackMultiModalInputs(task='cls')(res)
    assert set(packed['inputs']) == {'eo', 'sar'}
    assert packed['inputs']['eo'].shape == (1, 30, 30)
    assert packed['data_samples'].img_shape == (48, 48)  # the reference frame
    pre = MultiModalDataPreprocessor(preprocessors=dict(
        eo=dict(type='mmpretrain.ClsDataPreprocessor', mean=[10.], std=[2.]),
        sar=dict(type='mmpretrain.ClsDataPreprocessor', mean=[100.], std=[50.])))
    out = pre(dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]))
    eo, sar = out['inputs']['eo'], out['inputs']['sar']
    assert torch.allclose(eo, (packed['inputs']['eo'].float()[None] - 10) / 2)
    assert torch.allclose(sar, (packed['inputs']['sar'].float()[None] - 100) / 50)
    with pytest.raises(KeyError, match=r"the batch has no \['sar'\] images"):
        pre(dict(inputs=[dict(eo=packed['inputs']['eo'])],
                 data_samples=[packed['data_samples']]))


def test_paired_mixup_mixes_modalities_and_labels_with_one_draw():
    from mmpretrain.structures import DataSample

    from mmkd.models.data_preprocessors import MultiModalDataPreprocessor
    pre = MultiModalDataPreprocessor(
        preprocessors=dict(
            eo=dict(type='mmpretrain.ClsDataPreprocessor', mean=[0.], std=[1.]),
            sar=dict(type='mmpretrain.ClsDataPreprocessor', mean=[0.], std=[1.])),
        batch_augments=[dict(type='mmkd.PairedMixup', alpha=1.0)], num_classes=4)
    n = 6
    inputs = [dict(eo=torch.full((1, 4, 4), float(i)),
                   sar=torch.full((1, 8, 8), float(10 * i))) for i in range(n)]
    samples = [DataSample().set_gt_label(i % 4) for i in range(n)]
    np.random.seed(1)
    torch.manual_seed(1)
    out = pre(dict(inputs=inputs, data_samples=samples), training=True)
    eo, sar = out['inputs']['eo'][:, 0, 0, 0], out['inputs']['sar'][:, 0, 0, 0]
    assert torch.allclose(sar, 10 * eo)  # same partner and lambda in both modalities
    # image i = lam * i + (1 - lam) * partner(i); its soft label puts lam on class i % 4
    # and 1 - lam on the partner's class: recover lam and the partner from the pixels
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    assert torch.allclose(scores.sum(1), torch.ones(n))
    lam = None
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            l_ij = (eo[i] - j) / (i - j)
            if 0 <= l_ij <= 1 and (lam is None or abs(l_ij - lam) < 1e-5):
                expected = torch.zeros(4)
                expected[i % 4] += l_ij
                expected[j % 4] += 1 - l_ij
                if torch.allclose(scores[i], expected, atol=1e-5):
                    lam = float(l_ij)
                    break
        else:
            if not torch.allclose(eo[i], torch.tensor(float(i))):
                pytest.fail(f'sample {i}: no partner explains pixels and soft label')
    assert lam is not None


@pytest.mark.skipif(not osp.isfile(osp.join(SHARED, 'mavoc-pbvs2022-test-pairs.tar.gz')),
                    reason='the MAVOC pairs archive (../shared/data) is not present')
def test_real_unlabelled_mavoc_pairs_load_and_transform(tmp_path_factory):
    import tarfile
    root = tmp_path_factory.mktemp('mavoc')
    with tarfile.open(osp.join(SHARED, 'mavoc-pbvs2022-test-pairs.tar.gz')) as tar:
        tar.extractall(root, filter='data')
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/cmkd/cmkd-s_resnet34_mavoc-unlabelled.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(root / 'mavoc_pbvs2022_test')
    ds_cfg.pop('type')
    ds = PairedClsDataset(**ds_cfg)
    assert len(ds) == 826
    sample = ds[0]
    assert sample['inputs']['eo'].shape == (1, 30, 30)
    assert sample['inputs']['sar'].shape == (1, 48, 48)
    assert 'gt_label' not in sample['data_samples']
