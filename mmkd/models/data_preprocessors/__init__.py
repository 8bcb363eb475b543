from .band_adapter import BandAdapter
from .multimodal import MultiModalDataPreprocessor, PairedMixup

__all__ = ['BandAdapter', 'MultiModalDataPreprocessor', 'PairedMixup']
