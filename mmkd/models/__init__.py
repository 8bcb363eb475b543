"""mmkd's models; the parts built on a host library are registered only where it is
installed (``mmkd.utils.compat.host_installed``)."""
from mmkd.utils.compat import host_installed
from .connectors import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403

if host_installed('mmpretrain'):
    from .backbones import *  # noqa: F401,F403
if host_installed('mmdet'):
    from .det import *  # noqa: F401,F403
if host_installed('mmseg') and host_installed('mmpretrain'):
    from .seg import *  # noqa: F401,F403
