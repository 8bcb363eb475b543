from .feature_mse_loss import FeatureMSELoss
from .kd_loss import KDLoss
from .cmkd_loss import CMKDLoss
from .at_loss import ATLoss
from .cc_loss import CCLoss
from .fsp_loss import FSPLoss
from .nst_loss import NSTLoss
from .pkt_loss import PKTLoss
from .rkd_loss import RKDLoss
from .sp_loss import SPLoss
from .vid_loss import VIDLoss
from .afkd_loss import AFKDLoss
from .alkd_loss import ALKDLoss
from .crd_loss import CRDLoss
from .dcm_loss import DCMLoss
from .sem_loss import SEMLoss
from .semckd_loss import SemCKDLoss
from .qfl_soft_target_loss import QFLSoftTargetLoss
from .pdf_distil_loss import PDFDistilLoss
from .defeat_loss import DeFeatLoss
from .dml_loss import DMLLoss
from .pairwise_similarity_loss import PairWiseSimilarityLoss
from .pseudo_label_seg_loss import PseudoLabelSegLoss
from .skd_holistic_loss import SKDHolisticLoss
from .dkd_loss import DKDLoss
from .dist_loss import DISTLoss
from .reviewkd_loss import ReviewKDLoss

__all__ = ['KDLoss', 'FeatureMSELoss']
__all__ += ['ATLoss', 'NSTLoss', 'SPLoss', 'PKTLoss', 'RKDLoss', 'CCLoss', 'FSPLoss',
            'VIDLoss']
__all__ += ['CRDLoss', 'SemCKDLoss', 'ALKDLoss', 'AFKDLoss', 'SEMLoss', 'DCMLoss']
__all__ += ['QFLSoftTargetLoss', 'PDFDistilLoss', 'DeFeatLoss']
__all__ += ['CMKDLoss']
__all__ += ['PairWiseSimilarityLoss', 'SKDHolisticLoss', 'DMLLoss', 'PseudoLabelSegLoss']
__all__ += ['DKDLoss', 'DISTLoss', 'ReviewKDLoss']
