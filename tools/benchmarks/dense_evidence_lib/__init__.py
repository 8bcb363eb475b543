"""The dense-prediction evidence benchmark behind ``tools/benchmarks/dense_evidence.py``
(the command line, its arguments and ``main``), by responsibility:

- ``tables``: ``TABLES``, each table's track, metric, teacher, rows (``row()``), gate,
  comparisons, claims, the papers' numbers and the CPU and ``--full`` scales;
- ``overrides``: what each run's written config changes in its shipped config (encoder,
  teacher, loss settings, data, loaders, schedule; SpaceNet 6, xView, VEDAI);
- ``context``: what one call works on (``setup``: the scale, the track's data, folds,
  rows and teacher paths), the synthetic data, ``--keep-rows``;
- ``runs``: one run (its written config, its summary) and a table's order
  (``run_table``: teacher, baseline, gate, loss terms, rows), the estimate;
- ``report``: the paired statistics, the markdown, ``results.json`` and the README
  block;
- ``spread``: the seed spread beside another table's results (``det-kd-generic``);
- ``plots``: ``box.png`` and ``paired_diff.png``.

Imported by ``dense_evidence.py``, which puts the repository and ``tools/benchmarks`` on
``sys.path`` first.
"""
