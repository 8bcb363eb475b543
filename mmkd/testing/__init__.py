"""Synthetic data for the demo, the tests and the CPU benchmarks: generated, not real data.

Each module writes a small data set of made-up imagery in the layout a shipped config or
dataset reads, deterministically from a seed, so the demo, the tests and the benchmarks
run without downloading anything:

- :mod:`~mmkd.testing.synthetic_sar`: SAR-like target chips, 10 classes, mmpretrain's
  ``CustomDataset`` layout (the demo's data, ``configs/kd/``);
- :mod:`~mmkd.testing.synthetic_det`: paired optical / infrared-like detection scenes in
  COCO format (``configs/det_kd/``);
- :mod:`~mmkd.testing.synthetic_buildings`: paired SAR / optical building scenes with
  footprint masks, ``PairedSegDataset``'s folders layout (``configs/disoptnet/``);
- :mod:`~mmkd.testing.radar_optics_miniature`: a stand-in for DS-CMKD's paired optical /
  radar marine targets (``configs/ds_cmkd/``);
- :mod:`~mmkd.testing.spacenet6_miniature`: GeoTIFFs in the SpaceNet 6 file layout, with
  the synthetic buildings as pixels, for the converter and the georeferencing code.

Nothing here reads real data and nothing here is registered: the datasets that read
these folders (and real ones) are in :mod:`mmkd.datasets`, which does not import this
package. ``tools/misc/make_synthetic_*.py`` are the command lines.
"""
from .radar_optics_miniature import make_radar_optics_miniature
from .spacenet6_miniature import make_spacenet6_miniature
from .synthetic_buildings import make_synthetic_buildings
from .synthetic_det import make_synthetic_det
from .synthetic_sar import make_synthetic_sar

__all__ = ['make_radar_optics_miniature', 'make_spacenet6_miniature',
           'make_synthetic_buildings', 'make_synthetic_det', 'make_synthetic_sar']
