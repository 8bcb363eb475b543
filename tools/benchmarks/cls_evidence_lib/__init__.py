"""The classification evidence benchmark behind ``tools/benchmarks/cls_evidence.py`` (the
command line, its arguments and ``main``), by responsibility:

- ``tables``: ``TABLES``, each table's parts, rows, shipped configs, scales and the
  paper's numbers;
- ``overrides``: what each run's written config changes in its shipped config;
- ``data``: what each run reads (CIFAR folders, MSTAR-10 draws, the synthetic chips);
- ``runs``: one run: its summary and step cost; its written config and training
  through ``_evidence_common`` (the steps ``dense_evidence_lib`` runs too);
- ``parts``: one part, in order: teachers, start points, baseline, gate, methods;
- ``mutual``: the CMKD-m part (two models taking turns): its configs, runs, table;
- ``report``: the paired statistics, the markdown, ``results.json``, the plot and the
  README block.

Imported by ``cls_evidence.py``, which puts the repository and ``tools/benchmarks`` on
``sys.path`` first.
"""
