from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmkd.registry import HOOKS


def _unwrap(runner):
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module()
class RoleSwapHook(Hook):
    """Drives a :class:`mmkd.MutualDistiller`: at the start of every epoch it sets the
    phase (who is student, who is teacher) for that epoch, so a resumed run continues in
    the same round and role; after training it evaluates every model on the validation
    set and logs ``<model>/<metric>``.

    Args:
        evaluate_all (bool): Evaluate every model after training. Defaults to True.
    """

    priority = 'HIGH'  # before the optimizer/parameter hooks of the epoch

    def __init__(self, evaluate_all: bool = True):
        self.evaluate_all = evaluate_all

    def before_train(self, runner) -> None:
        model = _unwrap(runner)
        max_epochs = getattr(runner.train_loop, 'max_epochs', None)
        if max_epochs is not None and max_epochs != model.total_epochs:
            print_log(f'RoleSwapHook: train_cfg.max_epochs={max_epochs} but the phases add '
                      f'up to {model.total_epochs} epochs; the last phase continues past '
                      f'its end', logger='current', level=30)
        model.switched(runner.epoch)

    def before_train_epoch(self, runner) -> None:
        _unwrap(runner).switched(runner.epoch)

    def after_train(self, runner) -> None:
        if not self.evaluate_all or runner.val_loop is None:
            return
        import torch
        model = _unwrap(runner)
        keep = model.eval_model
        evaluator = runner.val_loop.evaluator
        try:
            for name in model.members:
                model.eval_model = name
                model.eval()
                with torch.no_grad():
                    for data in runner.val_dataloader:
                        evaluator.process(data_samples=runner.model.val_step(data),
                                          data_batch=data)
                metrics = evaluator.evaluate(len(runner.val_dataloader.dataset))
                scalars = {f'{name}/{k}': v for k, v in metrics.items()}
                for k, v in scalars.items():
                    runner.message_hub.update_scalar(k, v)
                runner.visualizer.add_scalars(scalars, step=runner.iter)  # scalars.json
                print_log(f'final evaluation of model {name!r}: {metrics}', logger='current')
        finally:
            model.eval_model = keep
