"""RetinaHead trained with Quality Focal Loss whose target is the predicted box's IoU."""
import torch
from mmdet.models.dense_heads import RetinaHead
from mmdet.structures.bbox import bbox_overlaps, get_box_tensor

from mmkd.registry import MODELS


@MODELS.register_module()
class QFLRetinaHead(RetinaHead):
    r"""mmdet's ``RetinaHead`` whose classification loss is QFL with an IoU target.

    Li et al., *Generalized Focal Loss*, NeurIPS 2020, arXiv:2006.04388: each positive
    anchor's target for its ground-truth class is the IoU between the box it predicts
    (decoded, detached) and its ground-truth box; every other class of every anchor has
    target 0 (:math:`\mathrm{QFL}(\sigma, y) = -|y-\sigma|^\beta((1-y)\log(1-\sigma) +
    y\log\sigma)`, normalised by the number of positive anchors). mmdet's ``GFLHead``
    does this for its integral box regression; no mmdet anchor head does it with
    RetinaNet's delta regression, hence this head. The PDF-Distil authors' detector,
    whose modifications the study's detectors share, targets the predicted box's IoU
    too (``zhanghengdev/MutualGuide``, ``utils/loss/multibox_loss.py`` with mutual
    guidance), with its own anchor assignment; this head keeps RetinaNet's
    ``MaxIoUAssigner``.

    Everything else is ``RetinaHead``: layers and parameter names, anchors, assignment,
    the box loss (``BalancedL1Loss`` in the study configs) and inference, so a trained
    head's weights load into a plain ``RetinaHead`` and predict the same boxes.

    Args:
        loss_cls (dict): Must be mmdet's ``QualityFocalLoss`` (sigmoid, not activated).
            Defaults to ``dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
            loss_weight=1.0)`` (GFL's settings).
        **kwargs: ``RetinaHead`` arguments.
    """

    def __init__(self, *args,
                 loss_cls: dict = dict(type='QualityFocalLoss', use_sigmoid=True,
                                       beta=2.0, loss_weight=1.0),
                 **kwargs):
        kind = str(loss_cls.get('type', '')).split('.')[-1]
        if kind != 'QualityFocalLoss' or not loss_cls.get('use_sigmoid', True) or \
                loss_cls.get('activated', False):
            raise ValueError(
                f"QFLRetinaHead trains classification with mmdet's QualityFocalLoss on "
                f"an IoU target; loss_cls must be dict(type='QualityFocalLoss', "
                f"use_sigmoid=True, ...), got {dict(loss_cls)}. For another "
                f"classification loss use mmdet's RetinaHead")
        super().__init__(*args, loss_cls=loss_cls, **kwargs)

    def loss_by_feat_single(self, cls_score: torch.Tensor, bbox_pred: torch.Tensor,
                            anchors: torch.Tensor, labels: torch.Tensor,
                            label_weights: torch.Tensor, bbox_targets: torch.Tensor,
                            bbox_weights: torch.Tensor, avg_factor: int) -> tuple:
        """One level's losses: QFL on IoU targets, then ``RetinaHead``'s box loss."""
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        reg_dim = self.bbox_coder.encode_size
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, reg_dim)
        anchors = anchors.reshape(-1, anchors.size(-1))
        target_dim = bbox_targets.size(-1)
        bbox_targets = bbox_targets.reshape(-1, target_dim)
        bbox_weights = bbox_weights.reshape(-1, target_dim)

        pos = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        score = label_weights.new_zeros(labels.shape)
        if len(pos) > 0:
            pos_anchors = anchors[pos]
            pred_boxes = get_box_tensor(
                self.bbox_coder.decode(pos_anchors, bbox_pred[pos].detach()))
            if self.reg_decoded_bbox:
                gt_boxes = get_box_tensor(bbox_targets[pos])
            else:  # targets are encoded deltas; decoding them gives the gt boxes back
                gt_boxes = get_box_tensor(self.bbox_coder.decode(pos_anchors,
                                                                 bbox_targets[pos]))
            score[pos] = bbox_overlaps(pred_boxes, gt_boxes, is_aligned=True)
        loss_cls = self.loss_cls(cls_score, (labels, score), weight=label_weights,
                                 avg_factor=avg_factor)

        if self.reg_decoded_bbox:
            bbox_pred = get_box_tensor(self.bbox_coder.decode(anchors, bbox_pred))
        loss_bbox = self.loss_bbox(bbox_pred, bbox_targets, bbox_weights,
                                   avg_factor=avg_factor)
        return loss_cls, loss_bbox
