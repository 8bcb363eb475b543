# Split-position ablation: DisOptNet with split_stage k = 2 (stages 0..2 shared, the
# pseudo-optical branch copies the teacher's stages 3,4,5). Everything else as k = 3.
_base_ = ['./_base_/split-stage_synthetic-buildings.py']
split_stage = 2
_matched = 4  # decoder feature + stages 3,4,5
model = dict(student=dict(split_stage=split_stage),
             **_base_.pop('split_stage_ablation')[f'k{split_stage}'])
