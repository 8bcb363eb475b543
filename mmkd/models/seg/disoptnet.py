"""DisOptNet: a SAR segmentor with a pseudo-optical branch that simulates an optical
network's features (Kang et al., TGRS 2022).

Kang, Wang, Zhu, Xia, Sun, Fernandez-Beltran, Plaza. *DisOptNet: Distilling Semantic
Knowledge From Optical Images for Weather-Independent Building Segmentation*. IEEE
TGRS 60, 2022, doi:10.1109/TGRS.2022.3165209. Code: github.com/jiankang1991/TGRS_DisOptNet.

One forward pass (:meth:`DisOptNet.branches`), SAR image in:

1. the SAR encoder runs all its stages; stages ``0..k`` (``split_stage=k``) are
   **shared**;
2. the **pseudo-optical branch** holds its own copies of the optical network's stages
   ``k+1..`` (``pseudo_optical_backbone.layers[k+1:]``, same names and shapes as the
   optical teacher's ``backbone.layers[k+1:]``; its stages ``0..k`` are identities with
   no weights) and is fed the SAR stage-``k`` feature;
3. each branch has its own decoder (``decode_head`` for SAR, ``pseudo_optical_head``);
4. the fusion head merges the two decoder features into the **fused prediction**, the
   output at test time (``predict``, ``mode='tensor'``).

Trained alone (``mode='loss'``) the model has the segmentation losses of the fused and
the SAR predictions. The distillation terms, the pseudo-optical branch's prediction
against the frozen optical teacher's (pixel-wise KL) and its stage and decoder
features against the teacher's (L2), come from ``mmkd.Distiller`` with taps on
``pseudo_optical_backbone.layers.<i>`` and ``pseudo_optical_head.conv_seg``: see
``configs/disoptnet/``. At test time only the SAR image is needed.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import add_prefix

from mmkd.registry import MODELS


@MODELS.register_module()
class DisOptNet(EncoderDecoder):
    """SAR encoder + pseudo-optical branch split at stage ``split_stage`` + fusion.

    Args:
        backbone (dict): The SAR encoder; its stages are ``backbone.layers`` (e.g.
            ``mmkd.EfficientNetEncoder`` with ``in_channels=4``).
        decode_head (dict): The SAR branch's decoder (a head with ``decode(feats)``
            returning the feature ``cls_seg`` reads, e.g. ``mmkd.UNetDecodeHead``).
        pseudo_optical_backbone (dict): The optical network's encoder config (the
            teacher's ``backbone``); only its stages after ``split_stage`` are kept.
        pseudo_optical_head (dict): The optical network's decoder config (the teacher's
            ``decode_head``).
        fusion_head (dict): Merges the two decoder features, e.g.
            ``mmkd.SCSEFusionHead``; its prediction is the model's output.
        split_stage (int): k: stages ``0..k`` of the SAR encoder are shared, the
            branch copies stages ``k+1..``. The authors' code splits after the stride-8
            stage (k=3 with EfficientNet's stem as stage 0). Defaults to 3.
        sar_loss_weight (float): Weight of the SAR branch's own segmentation loss
            (deep supervision; the authors' code: 1). Defaults to 1.0.
        pseudo_optical_gt_loss (bool): Also supervise the pseudo-optical prediction
            with the ground truth (the authors supervise it with the teacher only).
            Defaults to False.
        pseudo_optical_init (dict, optional): ``dict(checkpoint=<optical model
            checkpoint or work dir>)``: start the branch's stages and decoder from the
            optical teacher's weights (keys ``backbone.layers.<i>`` and
            ``decode_head.*``). The authors start it from ImageNet weights instead.
        **kwargs: ``EncoderDecoder`` arguments (``train_cfg``, ``test_cfg``,
            ``data_preprocessor``, ``init_cfg``).
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 pseudo_optical_backbone: dict,
                 pseudo_optical_head: dict,
                 fusion_head: dict,
                 split_stage: int = 3,
                 sar_loss_weight: float = 1.0,
                 pseudo_optical_gt_loss: bool = False,
                 pseudo_optical_init: Optional[dict] = None,
                 **kwargs):
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        for name, m in (('backbone', self.backbone), ('decode_head', self.decode_head)):
            _check_interface(name, m)
        n = len(self.backbone.layers)
        if not 0 <= split_stage < n - 1:
            raise ValueError(f'DisOptNet: split_stage must be in 0..{n - 2} (the SAR '
                             f'encoder has stages 0..{n - 1} and the branch needs at '
                             f'least one), got {split_stage}')
        self.split_stage = split_stage
        self.sar_loss_weight = sar_loss_weight
        self.pseudo_optical_gt_loss = pseudo_optical_gt_loss
        self.pseudo_optical_init = pseudo_optical_init

        po = MODELS.build(pseudo_optical_backbone)
        _check_interface('pseudo_optical_backbone', po)
        if len(po.layers) != n or list(po.out_indices) != list(self.backbone.out_indices):
            raise ValueError(
                f'DisOptNet: the pseudo-optical encoder must have the SAR encoder\'s '
                f'stages and out_indices ({n} stages, {list(self.backbone.out_indices)});'
                f' got {len(po.layers)} stages, {list(po.out_indices)}')
        sar_ch, po_ch = self.backbone.stage_channels, po.stage_channels
        if sar_ch[split_stage] != po_ch[split_stage]:
            raise ValueError(
                f'DisOptNet: the pseudo-optical branch starts at stage '
                f'{split_stage + 1}, which takes {po_ch[split_stage]} channels, but the '
                f'SAR encoder\'s stage {split_stage} gives {sar_ch[split_stage]}: use '
                f'the same encoder architecture for both')
        for i in range(split_stage + 1):  # shared with the SAR encoder: not duplicated
            po.layers[i] = nn.Identity()
        self.pseudo_optical_backbone = po
        self.pseudo_optical_head = MODELS.build(pseudo_optical_head)
        _check_interface('pseudo_optical_head', self.pseudo_optical_head)
        self.fusion_head = MODELS.build(fusion_head)

    # ------------------------------------------------------------------ weights
    def init_weights(self):
        super().init_weights()
        if self.pseudo_optical_init:
            self.load_pseudo_optical(self.pseudo_optical_init['checkpoint'])

    def load_pseudo_optical(self, checkpoint: str) -> None:
        """Copy the optical model's stages after the split and its decoder."""
        from mmkd.models.distillers.model_config import extract_state_dict, resolve_checkpoint
        path = resolve_checkpoint(checkpoint, 'DisOptNet pseudo_optical_init')
        sd = extract_state_dict(_load_checkpoint(path, map_location='cpu'))
        targets = {'backbone.': self.pseudo_optical_backbone,
                   'decode_head.': self.pseudo_optical_head}
        for prefix, module in targets.items():
            own = module.state_dict()
            part = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)
                    and k[len(prefix):] in own}
            missing = [k for k in own if k not in part]
            bad = [k for k in part if part[k].shape != own[k].shape]
            if missing or bad:
                raise RuntimeError(
                    f'DisOptNet pseudo_optical_init: {path} does not hold the optical '
                    f'model\'s {prefix[:-1]} (missing {missing[:4]}, shape mismatches '
                    f'{bad[:4]}): give the optical teacher\'s checkpoint')
            module.load_state_dict(part, strict=True)
        print_log(f'DisOptNet: pseudo-optical branch (stages > {self.split_stage} and '
                  f'decoder) initialised from {path}', logger='current')

    # ------------------------------------------------------------------ forward
    def branches(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Logits of the SAR, pseudo-optical and fused predictions (decoder size)."""
        k = self.split_stage
        stages: List[torch.Tensor] = []
        x = inputs
        for layer in self.backbone.layers:
            x = layer(x)
            stages.append(x)
        po_stages = stages[:k + 1]
        y = stages[k]
        for layer in self.pseudo_optical_backbone.layers[k + 1:]:
            y = layer(y)
            po_stages.append(y)
        idx = self.backbone.out_indices
        sar_feat = self.decode_head.decode(
            self.decode_head._transform_inputs([stages[i] for i in idx]))
        po_feat = self.pseudo_optical_head.decode(
            self.pseudo_optical_head._transform_inputs([po_stages[i] for i in idx]))
        return dict(sar=self.decode_head.cls_seg(sar_feat),
                    pseudo_optical=self.pseudo_optical_head.cls_seg(po_feat),
                    fused=self.fusion_head([sar_feat, po_feat]))

    def extract_feat(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        return self.backbone(inputs)

    def _forward(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        return self.branches(inputs)['fused']

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: List[dict]
                      ) -> torch.Tensor:
        fused = self.branches(inputs)['fused']
        return self.fusion_head.predict_by_feat(fused, batch_img_metas)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        out = self.branches(inputs)
        losses = add_prefix(self.fusion_head.loss_by_feat(out['fused'], data_samples),
                            'fused')
        if self.sar_loss_weight:
            sar = self.decode_head.loss_by_feat(out['sar'], data_samples)
            losses.update(add_prefix(_scaled(sar, self.sar_loss_weight), 'sar'))
        if self.pseudo_optical_gt_loss:
            po = self.pseudo_optical_head.loss_by_feat(out['pseudo_optical'],
                                                       data_samples)
            losses.update(add_prefix(po, 'pseudo_optical'))
        return losses


def _scaled(losses: dict, w: float) -> dict:
    return {k: v * w if k.startswith('loss') and w != 1 else v for k, v in losses.items()}


def _check_interface(name: str, module: nn.Module) -> None:
    need = ('layers', 'stage_channels', 'out_indices') if 'backbone' in name else (
        'decode', 'cls_seg')
    missing = [a for a in need if not hasattr(module, a)]
    if missing:
        raise TypeError(f'DisOptNet: {name} ({type(module).__name__}) lacks {missing}; '
                        f'use mmkd.EfficientNetEncoder for encoders and '
                        f'mmkd.UNetDecodeHead for decoders')
