from .formatting import PackMultiModalInputs
from .loading import LoadMultiModalImages, SARIntensityScale, SimulateSAR, read_image
from .noise import SaltPepperNoise
from .paired_geometric import (
    PairedCenterCrop,
    PairedRandomFlip,
    PairedRandomResizedCrop,
    PairedRandomRotate,
    PairedResize,
)
from .per_modality import PairedApply, PerModality
from .seg_loading import AlignSAROrientation, LoadSegMask, rasterize_footprints
from .select_modality import SelectModality

__all__ = ['PackMultiModalInputs', 'LoadMultiModalImages', 'SARIntensityScale',
           'SimulateSAR', 'read_image', 'PairedCenterCrop', 'PairedRandomFlip',
           'PairedRandomResizedCrop', 'PairedRandomRotate', 'PairedResize', 'PairedApply',
           'PerModality']
__all__ += ['AlignSAROrientation', 'LoadSegMask', 'rasterize_footprints',
            'SelectModality']
__all__ += ['SaltPepperNoise']
