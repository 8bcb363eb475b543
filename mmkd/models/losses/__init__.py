from mmkd.utils.compat import host_installed
from .afkd_loss import AFKDLoss
from .alkd_loss import ALKDLoss
from .at_loss import ATLoss
from .base import DistillLoss, LossContract, LossContractError, check_loss_contract, loss_contract
from .cc_loss import CCLoss
from .cmkd_loss import CMKDLoss
from .crd_loss import CRDLoss
from .cwd_loss import CWDLoss
from .dcm_loss import DCMLoss
from .defeat_loss import DeFeatLoss
from .dist_loss import DISTLoss
from .dkd_loss import DKDLoss
from .dml_loss import DMLLoss
from .feature_mse_loss import FeatureMSELoss
from .fgd_loss import FGDLoss
from .fsp_loss import FSPLoss
from .kd_loss import KDLoss
from .mgd_loss import MGDLoss
from .multi_teacher_kd_loss import MultiTeacherKDLoss
from .nst_loss import NSTLoss
from .pairwise_similarity_loss import PairWiseSimilarityLoss
from .pdf_distil_loss import PDFDistilLoss
from .pkd_loss import PKDLoss
from .pkt_loss import PKTLoss
from .pseudo_label_seg_loss import PseudoLabelSegLoss
from .reviewkd_loss import ReviewKDLoss
from .rkd_loss import RKDLoss
from .sem_loss import SEMLoss
from .semckd_loss import SemCKDLoss
from .skd_holistic_loss import SKDHolisticLoss
from .sp_loss import SPLoss
from .vid_loss import VIDLoss

__all__ = ['DistillLoss', 'LossContract', 'LossContractError', 'check_loss_contract',
           'loss_contract']
__all__ += ['KDLoss', 'FeatureMSELoss']
__all__ += ['ATLoss', 'NSTLoss', 'SPLoss', 'PKTLoss', 'RKDLoss', 'CCLoss', 'FSPLoss',
            'VIDLoss']
__all__ += ['CRDLoss', 'SemCKDLoss', 'ALKDLoss', 'AFKDLoss', 'SEMLoss', 'DCMLoss']
__all__ += ['PDFDistilLoss', 'DeFeatLoss']
__all__ += ['CMKDLoss']
__all__ += ['PairWiseSimilarityLoss', 'SKDHolisticLoss', 'DMLLoss', 'PseudoLabelSegLoss']
__all__ += ['DKDLoss', 'DISTLoss', 'ReviewKDLoss']
__all__ += ['CWDLoss', 'PKDLoss', 'MGDLoss', 'FGDLoss']
__all__ += ['MultiTeacherKDLoss']

if host_installed('mmdet'):  # QFL soft targets reuse mmdet's quality focal loss
    from .qfl_soft_target_loss import QFLSoftTargetLoss  # noqa: F401
    __all__ += ['QFLSoftTargetLoss']
