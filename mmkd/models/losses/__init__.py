from .feature_mse_loss import FeatureMSELoss
from .kd_loss import KDLoss
from .at_loss import ATLoss
from .cc_loss import CCLoss
from .fsp_loss import FSPLoss
from .nst_loss import NSTLoss
from .pkt_loss import PKTLoss
from .rkd_loss import RKDLoss
from .sp_loss import SPLoss
from .vid_loss import VIDLoss

__all__ = ['KDLoss', 'FeatureMSELoss']
__all__ += ['ATLoss', 'NSTLoss', 'SPLoss', 'PKTLoss', 'RKDLoss', 'CCLoss', 'FSPLoss',
            'VIDLoss']
