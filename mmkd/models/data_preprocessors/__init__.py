from .multimodal import MultiModalDataPreprocessor, PairedMixup

__all__ = ['MultiModalDataPreprocessor', 'PairedMixup']
