from .distiller import Distiller
from .model_config import (
    CheckpointMismatchError,
    build_model,
    extract_state_dict,
    load_config,
    load_weights_strict,
    resolve_model_cfg,
)
from .mutual_distiller import MutualDistiller
from .taps import TapRecorder

__all__ = ['Distiller', 'MutualDistiller', 'TapRecorder', 'CheckpointMismatchError', 'build_model',
           'extract_state_dict', 'load_config', 'load_weights_strict', 'resolve_model_cfg']
