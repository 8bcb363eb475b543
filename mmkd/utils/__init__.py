from .checkpoint import register_trusted_local_loader
from .compat import check_dependencies

__all__ = ['register_trusted_local_loader', 'check_dependencies']
