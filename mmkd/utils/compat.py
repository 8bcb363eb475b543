"""Version checks with messages that say what to install, raised at ``import mmkd``."""
import importlib.util
from importlib import metadata

from packaging.version import Version

# name -> (minimum inclusive, maximum exclusive); None means unbounded.
REQUIRED = {
    'mmengine': ('0.10.0', '1.0.0'),
    'mmcv': ('2.0.0', '2.2.0'),
}
# Host libraries are optional: each is checked only when installed, because a user who
# distils classifiers need not have mmdet.
OPTIONAL = {
    'mmpretrain': ('1.0.0', '2.0.0'),
    'mmdet': ('3.0.0', '3.4.0'),
    'mmsegmentation': ('1.0.0', '1.3.0'),
}

SETUP_HINT = 'Run `bash tools/setup_env.sh` (or see README "Installation").'


def _installed(name):
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


# A distribution that provides another's package: mmcv-lite is mmcv without its compiled
# ops (enough for classification; mmdet and mmseg need the full mmcv).
ALTERNATIVES = {'mmcv': ('mmcv-lite', )}


def _check(name, bounds, required):
    low, high = bounds
    found = _installed(name)
    for alt in ALTERNATIVES.get(name, ()):
        if found is None:
            found = _installed(alt)
    if found is None:
        if required:
            raise ImportError(f'mmkd needs {name}>={low},<{high}, which is not '
                              f'installed. {SETUP_HINT}')
        return
    if found < Version(low) or found >= Version(high):
        raise ImportError(f'mmkd needs {name}>={low},<{high}, but {name}=={found} is '
                          f'installed. {SETUP_HINT}')


def check_dependencies():
    """Raise ``ImportError`` naming what to install when mmengine or mmcv is missing or
    outside its tested range, when an installed host library (mmpretrain, mmdet,
    mmsegmentation) is outside its range, or when numpy >= 2 is installed."""
    for name, bounds in REQUIRED.items():
        _check(name, bounds, required=True)
    for name, bounds in OPTIONAL.items():
        _check(name, bounds, required=False)
    import numpy
    if Version(numpy.__version__) >= Version('2'):
        raise ImportError(f'numpy {numpy.__version__} is installed; mmcv 2.1 and the '
                          f'OpenMMLab 2.x packages need numpy<2. {SETUP_HINT}')


def host_installed(module):
    """Whether the host library imported as ``module`` (``'mmpretrain'``, ``'mmdet'``,
    ``'mmseg'``) is installed. The components built on a host library (the CIFAR
    backbones and paired classification dataset on mmpretrain; the RetinaNet variants,
    QFL soft targets and paired COCO dataset on mmdet; DisOptNet, its heads and the
    class-IoU metric on mmseg) are imported and registered only when it is, so a config
    naming one of them without it fails at build with mmengine's "not in the registry"
    error, and the rest of mmkd works without it."""
    return importlib.util.find_spec(module) is not None
