from .backbones import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .det import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .seg import *  # noqa: F401,F403
