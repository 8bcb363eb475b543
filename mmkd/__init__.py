"""mmkd: knowledge distillation across modalities and model sizes for OpenMMLab 2.x."""
from .utils.compat import check_dependencies
from .version import __version__, version_info

check_dependencies()

# Resuming and loading mmengine checkpoints under torch >= 2.6 (see utils/checkpoint.py).
from .utils.checkpoint import register_trusted_local_loader  # noqa: E402

register_trusted_local_loader()

__all__ = ['__version__', 'version_info']
