from .formatting import PackMultiModalInputs
from .loading import LoadMultiModalImages, SARIntensityScale, SimulateSAR, read_image
from .noise import SaltPepperNoise
from .paired_geometric import (PairedCenterCrop, PairedRandomFlip, PairedRandomResizedCrop,
                               PairedRandomRotate, PairedResize)
from .per_modality import PairedApply, PerModality

__all__ = ['PackMultiModalInputs', 'LoadMultiModalImages', 'SARIntensityScale',
           'SimulateSAR', 'read_image', 'PairedCenterCrop', 'PairedRandomFlip',
           'PairedRandomResizedCrop', 'PairedRandomRotate', 'PairedResize', 'PairedApply',
           'PerModality']
__all__ += ['SaltPepperNoise']
