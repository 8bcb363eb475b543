# Split-position ablation: DisOptNet with split_stage k = 4 (stages 0..4 shared, the
# pseudo-optical branch copies the teacher's stages 5). Everything else as k = 3.
_base_ = ['./_base_/split-stage_synthetic-buildings.py']
split_stage = 4
_matched = 2  # decoder feature + stages 5
model = dict(student=dict(split_stage=split_stage),
             **_base_.pop('split_stage_ablation')[f'k{split_stage}'])
