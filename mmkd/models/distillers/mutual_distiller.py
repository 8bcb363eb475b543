"""Models that take turns as teacher and student (CMKD-m and other role-swapping schemes).

One training step (:meth:`MutualDistiller.loss`) in the current phase:

1. the phase names the student (trained) and the teacher (frozen, eval mode,
   ``no_grad``; or none, for a supervised phase);
2. each reads its own modality of the paired batch;
3. the phase's loss (e.g. ``mmkd.CMKDLoss`` with the phase's ``alpha``) compares their
   logits (``mode='tensor'`` outputs) with the labels.

The phase index is a buffer, so it is checkpointed; :class:`mmkd.RoleSwapHook` sets it
from the epoch at the start of every epoch, so a resumed run continues in the same round
and role. Every model is exported at the end (``work_dir/student/<name>/``).
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel

from mmkd.registry import MODELS
from .distiller import Distiller
from .integrity import check_finite_losses
from .model_config import build_model, load_weights_strict
from .schedule import train_progress


@MODELS.register_module()
class MutualDistiller(BaseModel):
    """Trains several models in phases, each phase one student and one (frozen) teacher.

    Args:
        models (dict): name -> ``dict(model=<config dict or path>, input=<modality>,
            checkpoint=<optional>)``.
        phases (list[dict]): One round: each ``dict(student=name, teacher=name or None,
            epochs=int, **loss_overrides)``; loss overrides are set as attributes of the
            loss for the phase (e.g. ``alpha=0.7``).
        rounds (int): How many times the phases repeat. Defaults to 1.
        loss (dict): The distillation loss config, called as ``loss(student_logits,
            teacher_logits, data_samples)``; it returns a tensor or a dict of terms.
        init_from (dict, optional): ``{target: source}``: before training, the target
            model starts from the source model's weights (the paper's EO model starts
            from the SAR-pretrained weights). Architectures must match.
        eval_model (str, optional): The model validation runs; default: the last phase's
            student.
        data_preprocessor (dict): Usually ``mmkd.MultiModalDataPreprocessor``.
    """

    def __init__(self,
                 models: Dict[str, dict],
                 phases: List[dict],
                 loss: dict,
                 rounds: int = 1,
                 init_from: Optional[Dict[str, str]] = None,
                 eval_model: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if len(models) < 2:
            raise ValueError('MutualDistiller needs at least two models')
        self.model_cfgs = {n: dict(c) for n, c in models.items()}
        self.members = nn.ModuleDict()
        for name, cfg in self.model_cfgs.items():
            unknown = set(cfg) - {'model', 'input', 'checkpoint'}
            if 'model' not in cfg or unknown:
                raise KeyError(f"model {name!r}: expected keys model, input, checkpoint; "
                               f'got {sorted(cfg)}')
            self.members[name], _, _ = build_model(cfg['model'], f'model {name!r}')
        self.init_from = dict(init_from or {})
        for target, source in self.init_from.items():
            for n in (target, source):
                if n not in self.members:
                    raise KeyError(f'init_from names {n!r}, not one of {list(self.members)}')
        self._load_initial_weights()

        if not phases or rounds < 1:
            raise ValueError('give at least one phase and rounds >= 1')
        self.phases = []
        for r in range(rounds):
            for i, ph in enumerate(phases):
                ph = dict(ph)
                for role in ('student', 'teacher'):
                    n = ph.get(role)
                    if (n is not None or role == 'student') and n not in self.members:
                        raise KeyError(f'phase {i}: {role} {n!r} is not one of '
                                       f'{list(self.members)}')
                if ph.get('teacher') == ph['student']:
                    raise ValueError(f'phase {i}: a model cannot teach itself')
                if int(ph.get('epochs', 0)) < 1:
                    raise ValueError(f'phase {i}: epochs must be >= 1')
                ph['round'] = r
                self.phases.append(ph)
        self.loss_module = MODELS.build(loss)
        overrides = {k for ph in self.phases for k in ph} - {
            'student', 'teacher', 'epochs', 'round'}
        missing = [k for k in overrides if not hasattr(self.loss_module, k)]
        if missing:
            raise KeyError(f'phase overrides {missing} are not attributes of '
                           f'{type(self.loss_module).__name__}')
        self._base_loss_attrs = {k: getattr(self.loss_module, k) for k in overrides}
        self.eval_model = eval_model or self.phases[-1]['student']
        if self.eval_model not in self.members:
            raise KeyError(f'eval_model {self.eval_model!r} is not one of '
                           f'{list(self.members)}')
        self.register_buffer('phase_index', torch.zeros((), dtype=torch.long))
        self.set_phase(0)

    # ------------------------------------------------------------------ weights
    def _load_initial_weights(self) -> None:
        for name, cfg in self.model_cfgs.items():
            if cfg.get('checkpoint'):
                load_weights_strict(self.members[name], cfg['checkpoint'], f'model {name!r}')
        for target, source in self.init_from.items():
            try:
                self.members[target].load_state_dict(
                    copy.deepcopy(self.members[source].state_dict()), strict=True)
            except RuntimeError as e:
                raise RuntimeError(f'init_from: model {target!r} cannot start from '
                                   f'{source!r}\'s weights (different architectures?): '
                                   f'{e}') from None

    def init_weights(self):
        # The runner initialises weights after building; keep the given checkpoints.
        super().init_weights()
        self._load_initial_weights()

    # ------------------------------------------------------------------ phases
    @property
    def phase(self) -> dict:
        return self.phases[int(self.phase_index)]

    def phase_at_epoch(self, epoch: int) -> int:
        """Index of the phase that trains epoch ``epoch`` (0-based)."""
        total = 0
        for i, ph in enumerate(self.phases):
            total += int(ph['epochs'])
            if epoch < total:
                return i
        return len(self.phases) - 1

    @property
    def total_epochs(self) -> int:
        return sum(int(ph['epochs']) for ph in self.phases)

    def set_phase(self, index: int) -> None:
        """Make the phase's student trainable and its teacher frozen."""
        self.phase_index.fill_(int(index))
        ph = self.phase
        for name, m in self.members.items():
            m.requires_grad_(name == ph['student'])
        for k, base in self._base_loss_attrs.items():
            setattr(self.loss_module, k, ph.get(k, base))
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if hasattr(self, 'phase_index'):
            for name, m in self.members.items():
                if name != self.phase['student']:
                    m.eval()  # the teacher (and any idle model) keeps its BN statistics
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        x = Distiller.route(inputs, self.model_cfgs[self.eval_model].get('input'),
                            f'model {self.eval_model!r}')
        return self.members[self.eval_model](x, data_samples, mode=mode)

    def loss(self, inputs, data_samples=None) -> Dict[str, torch.Tensor]:
        ph = self.phase
        s_name, t_name = ph['student'], ph.get('teacher')
        student = self.members[s_name]
        s_in = Distiller.route(inputs, self.model_cfgs[s_name].get('input'),
                               f'student {s_name!r}')
        phase = torch.tensor(float(self.phase_index))
        it = train_progress().iter  # named in a non-finite loss error
        if t_name is None:
            losses = student(s_in, data_samples, mode='loss')
            losses = {**{f'{s_name}.{k}': v for k, v in losses.items()}, 'phase': phase}
            check_finite_losses(losses, it, f'phase {int(self.phase_index)}')
            return losses
        t_in = Distiller.route(inputs, self.model_cfgs[t_name].get('input'),
                               f'teacher {t_name!r}')
        with torch.no_grad():
            t_logits = self.members[t_name](t_in, data_samples, mode='tensor')
        s_logits = student(s_in, data_samples, mode='tensor')
        out = self.loss_module(s_logits, t_logits, data_samples)
        if not isinstance(out, dict):
            out = dict(distill=out)
        losses = {f'loss_{k}' if not k.startswith('loss') else k: v for k, v in out.items()}
        losses['phase'] = phase
        check_finite_losses(losses, it, f'phase {int(self.phase_index)} (student '
                            f'{s_name!r}, teacher {t_name!r})')
        return losses

    def export_members(self) -> Dict[str, tuple]:
        """name -> (model, modality) of every model to export."""
        return {n: (m, self.model_cfgs[n].get('input')) for n, m in self.members.items()}

    def switched(self, runner_epoch: int) -> bool:
        """Set the phase for ``runner_epoch``; True when it changed."""
        new = self.phase_at_epoch(runner_epoch)
        if new != int(self.phase_index) or not hasattr(self, '_phase_logged'):
            self._phase_logged = True
            self.set_phase(new)
            ph = self.phase
            print_log(f'CMKD-m phase {new} (round {ph["round"] + 1}): student '
                      f'{ph["student"]!r}, teacher {ph.get("teacher")!r}, overrides '
                      f'{ {k: ph[k] for k in self._base_loss_attrs if k in ph} }',
                      logger='current')
            return True
        return False
