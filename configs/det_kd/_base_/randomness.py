# Every det_kd run is seeded, so a run resumed after a crash (tools/train.py --resume)
# continues as the uninterrupted one would: with no seed each process draws its own and
# the data sampler shuffles in another order after the resume (mmkd.RNGStateHook restores
# the rest; see mmkd/engine/hooks/rng_state_hook.py). Pick another seed per run with
# `--cfg-options randomness.seed=1` (tools/analysis/seed_fold_grid.py and the benchmarks
# set one per run).
randomness = dict(seed=0)
