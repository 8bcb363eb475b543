"""From a paired sample to a single-image one, for the host libraries' own packers."""
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SelectModality(BaseTransform):
    """Keep one modality as the sample's ``img`` (``img_path``, ``img_shape``,
    ``ori_shape`` become that modality's), so mmseg's ``PackSegInputs`` (or mmpretrain's
    ``PackInputs``) packs it: the SAR-only baselines and exported students read paired
    data folders with the mmkd loaders and run as plain host-library models.

    Args:
        modality (str): The modality to keep.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def to_host(cfg: dict, modality: str, raster_files: bool = False) -> list:
        return []  # the host pipeline reads one image already

    def __init__(self, modality: str):
        self.modality = modality

    def transform(self, results: dict) -> dict:
        imgs = results['img']
        if not isinstance(imgs, dict):
            return results  # already a single image
        if self.modality not in imgs:
            raise KeyError(f'SelectModality: no {self.modality!r} image in the sample '
                           f'(has {sorted(imgs)})')
        results['img'] = imgs[self.modality]
        for key in ('img_path', 'img_shape', 'ori_shape'):
            value = results.get(key)
            if isinstance(value, dict):
                if self.modality in value:
                    results[key] = value[self.modality]
                elif key == 'img_path' and value:
                    # a rendered modality (simulated SAR, a noisy view) has no file of
                    # its own: name the file it was rendered from
                    results[key] = next(iter(value.values()))
                else:
                    results.pop(key)
        results['img_shape'] = tuple(results['img'].shape[:2])
        return results
