"""Detection modules mmdet lacks, for the RetinaNet variants of the detection-KD study
(``configs/det_kd``): a ResNet without the stem max-pool, a context-enhancement module
in front of mmdet's FPN/PAFPN, and a RetinaHead whose classification is trained with
Quality Focal Loss on an IoU target; mmdet's KD detector (LD) on paired cross-modal
batches."""
from .context_enhancement import ContextEnhancement
from .paired_kd_one_stage import PairedKDSingleStageDetector
from .qfl_retina_head import QFLRetinaHead
from .resnet_no_maxpool import ResNetNoMaxPool

__all__ = ['ResNetNoMaxPool', 'ContextEnhancement', 'QFLRetinaHead',
           'PairedKDSingleStageDetector']
