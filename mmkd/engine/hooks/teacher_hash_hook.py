"""Frozen teachers stay frozen: their fingerprints are checked through the run."""
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmkd.registry import HOOKS


class _MMDetKDTeacher:
    """mmdet's ``KnowledgeDistillationSingleStageDetector`` (LD) seen as a distiller with
    one frozen teacher, ``teacher_model`` (loaded from ``teacher_ckpt`` when the detector
    is built, never in its checkpoints), fingerprinted when the hook first sees it."""

    def __init__(self, model):
        self.model = model
        self.teacher_hashes = self._hashes()

    def _hashes(self):
        """``{'teacher': sha256}`` of ``teacher_model``'s weights and buffers."""
        from mmkd.models.distillers.integrity import state_hash
        return {'teacher': state_hash(self.model.teacher_model.state_dict())}

    def verify_teachers(self, when: str):
        from mmkd.models.distillers.integrity import verify_hashes
        current = self._hashes()
        verify_hashes(self.teacher_hashes, current, when)
        return current


def _distiller(runner, hook=None):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if getattr(model, 'teacher_hashes', None):
        return model
    from mmkd.utils.mmdet_kd import is_mmdet_kd_model
    if hook is None or not is_mmdet_kd_model(model):
        return None
    seen = getattr(hook, '_mmdet_kd', None)
    if seen is None or seen.model is not model:
        seen = hook._mmdet_kd = _MMDetKDTeacher(model)
    return seen


@HOOKS.register_module()
class TeacherHashHook(Hook):
    """Check that no frozen teacher changes: the SHA-256 of each frozen teacher's weights
    and buffers, taken when the distiller is built, is logged before training, checked
    at every checkpoint and after training (a change raises
    :class:`mmkd.models.distillers.integrity.TeacherChangedError`), and stored in the
    checkpoint's ``meta['teacher_hashes']``. Resuming from a checkpoint that was trained
    with other teacher weights raises too (a retrained or replaced teacher checkpoint
    would mix two distillations in one run); ``load_from`` does not check.

    mmdet's ``KnowledgeDistillationSingleStageDetector`` (LD) is checked the same way:
    its ``teacher_model`` is fingerprinted when the hook first sees it (after the
    detector loaded ``teacher_ckpt``), stored as ``'teacher'``.

    Hashing reads every teacher weight once (about 0.3 s per 100 MB on one core).
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        model = _distiller(runner, self)
        if model is None:
            return
        for name, h in model.teacher_hashes.items():
            print_log(f'frozen teacher {name!r}: weights sha256 {h}', logger='current')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _distiller(runner, self)
        if model is None:
            return
        hashes = model.verify_teachers(f'during training (iteration {runner.iter})')
        checkpoint.setdefault('meta', {})['teacher_hashes'] = hashes

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _distiller(runner, self)
        stored = (checkpoint.get('meta') or {}).get('teacher_hashes')
        if model is None or not stored or not getattr(runner, '_resume', False):
            return
        from mmkd.models.distillers.integrity import verify_hashes
        verify_hashes(stored, model.teacher_hashes, 'between the checkpoint and this run',
                      hint='The run being resumed was trained with other teacher weights '
                           '(was the teacher checkpoint replaced or retrained?). Resume '
                           'with the original teacher, or start a new run from these '
                           'weights with load_from=... instead of resume.')

    def after_train(self, runner) -> None:
        model = _distiller(runner, self)
        if model is None:
            return
        model.verify_teachers('during training')
        print_log(f'frozen teachers unchanged after training: '
                  f'{ {n: h[:12] for n, h in model.teacher_hashes.items()} }',
                  logger='current')
