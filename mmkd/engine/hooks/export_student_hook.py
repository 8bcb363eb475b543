import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmkd.apis.export import save_student, student_config
from mmkd.registry import HOOKS


@HOOKS.register_module()
class ExportStudentHook(Hook):
    """Writes the trained student next to the run when training ends (for a
    ``MutualDistiller``, every model, in ``<out_dir>/<model name>/``; for mmdet's
    ``KnowledgeDistillationSingleStageDetector``, LD, the detector without its teacher as
    a plain mmdet ``GFL``, :mod:`mmkd.utils.mmdet_kd`).

    ``<work_dir>/<out_dir>/student.pth`` (a plain host-library checkpoint: student
    weights only, no teacher, no connectors) and ``student_config.py`` (the runner config
    with the student as ``model``). Load them with the host library alone, e.g.
    ``mmpretrain.apis.init_model(cfg, ckpt)`` or the host's ``tools/test.py``.

    Args:
        out_dir (str): Folder under the work dir. Defaults to ``'student'``.
        filename (str): Checkpoint file name. Defaults to ``'student.pth'``.
    """

    priority = 'LOWEST'  # after CheckpointHook has saved the last distillation checkpoint

    def __init__(self, out_dir: str = 'student', filename: str = 'student.pth',
                 scope: Optional[str] = None):
        self.out_dir = out_dir
        self.filename = filename
        self.scope = scope

    @master_only
    def after_train(self, runner) -> None:
        from mmkd.models.distillers.model_config import host_scope
        from mmkd.utils.mmdet_kd import is_mmdet_kd_model
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if hasattr(model, 'export_members'):  # MutualDistiller: every model
            members = {n: m for n, (m, _) in model.export_members().items()}
        elif hasattr(model, 'student'):
            members = {None: model.student}
        elif is_mmdet_kd_model(model):
            # mmdet's KD detector (LD) is the student; its teacher is no sub-module, so
            # its state dict is the student's (student_config makes it a plain GFL)
            members = {None: model}
        else:
            print_log('ExportStudentHook: the model is not a distiller; nothing to export',
                      logger='current', level=30)
            return
        meta = dict(epoch=runner.epoch, iter=runner.iter, seed=runner.seed,
                    dataset_meta=getattr(runner.train_dataloader.dataset, 'metainfo', None))
        for name, student in members.items():
            cfg = student_config(runner.cfg, self.scope or host_scope(student), name)
            out_dir = osp.join(runner.work_dir, self.out_dir, *([name] if name else []))
            ckpt, cfg_path = save_student(student.state_dict(), cfg, out_dir, meta,
                                          self.filename)
            print_log(f'exported {"model " + repr(name) if name else "the student"} to '
                      f'{ckpt} with config {cfg_path}', logger='current')
