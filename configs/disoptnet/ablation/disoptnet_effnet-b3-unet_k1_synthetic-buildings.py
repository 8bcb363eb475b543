# Split-position ablation: DisOptNet with split_stage k = 1 (stages 0..1 shared, the
# pseudo-optical branch copies the teacher's stages 2,3,4,5). Everything else as k = 3.
_base_ = ['./_base_/split-stage_synthetic-buildings.py']
split_stage = 1
_matched = 5  # decoder feature + stages 2,3,4,5
model = dict(student=dict(split_stage=split_stage),
             **_base_.pop('split_stage_ablation')[f'k{split_stage}'])
