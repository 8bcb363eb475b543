"""A low-quality modality rendered from a clean image: salt-and-pepper noise."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SaltPepperNoise(BaseTransform):
    r"""Render a noisy modality from a clean one with salt-and-pepper (impulse) noise.

    The low-quality modality of the noisy-benchmark experiments of Si et al., *A
    Dimensional Structure based Knowledge Distillation Method for Cross-Modal Learning*
    (DS-CMKD), arXiv:2306.15977: a teacher reads the clean image, a student the same
    image corrupted, at "SNR" 0.1 and 0.5 (CIFAR-10/100, STL-10, Tiny-ImageNet,
    ImageNet-100/1k).

    **Level.** ``snr`` is the fraction of *pixels* left intact. Each pixel,
    independently, is kept with probability ``snr``; otherwise all its channels together
    are set to ``high`` (salt, white) with probability ``salt_ratio`` or to ``low``
    (pepper, black). So the expected corrupted fraction is :math:`1 - \mathrm{snr}`, half
    salt and half pepper by default:

    .. math::
        x'_{h,w,:} = \begin{cases} x_{h,w,:} & u_{h,w} < s \\
            \text{high} & s \le u_{h,w} < s + (1 - s)\,r \\
            \text{low} & \text{otherwise} \end{cases},
        \qquad u_{h,w} \sim U[0, 1)

    with :math:`s` = ``snr`` and :math:`r` = ``salt_ratio``. SNR 0.1 destroys 90% of
    the pixels, SNR 0.5 half of them.

    **Mapping to the paper.** The paper's text beyond its abstract could not be
    retrieved here, so its exact noise code is not known to us. "SNR" as a number in
    (0, 1] for salt-and-pepper noise is the *signal-noise rate* of the transform that
    PyTorch tutorials spread and many repositories copy (``AddPepperNoise(snr, p=0.9)``:
    ``mask = np.random.choice((0, 1, 2), size=(h, w, 1), p=[snr, (1 - snr) / 2,
    (1 - snr) / 2])`` repeated over the channels, ``1 -> 255``, ``2 -> 0``), which is
    exactly the definition above; a decibel SNR would not be 0.1 or 0.5 for a noise
    that visible. That transform is applied to an image with probability ``p``
    (default 0.9, presumably left as is by some users); here ``prob`` plays that role
    and defaults to 1 (every image noisy), because a clean student input would not be
    the "low-quality modality".

    Values: ``high`` defaults to 255 for ``uint8`` and float images (mmkd's pipelines
    keep 0..255 values in float32 too) and to the dtype's maximum for other integer
    dtypes; ``low`` to 0. The dtype and shape are kept.

    Randomness: with ``deterministic=True`` the noise is drawn from a generator seeded
    by ``(seed, sample_idx)``, so a test set is the same at every evaluation; otherwise
    from NumPy's global state (seeded by mmengine's ``randomness``), a fresh draw every
    epoch, an augmentation.

    Args:
        snr (float): Fraction of pixels kept, in [0, 1]. Defaults to 0.5.
        source (str): Clean modality key. Defaults to ``'clean'``.
        target (str): Key of the new, noisy modality (may equal ``source`` to corrupt
            in place). Defaults to ``'noisy'``. A single-image pipeline (``img`` an
            array, not a dict of modalities) is corrupted in place.
        salt_ratio (float): Fraction of the corrupted pixels set to ``high``.
            Defaults to 0.5.
        prob (float): Probability that an image is corrupted at all (the ``p`` of
            ``AddPepperNoise``). Defaults to 1.0.
        low (float): Pepper value. Defaults to 0.
        high (float, optional): Salt value; see above.
        deterministic (bool): Seed the noise from ``sample_idx``. Defaults to False.
        seed (int): Base seed for ``deterministic``. Defaults to 0.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    renders_modality = True

    def __init__(self,
                 snr: float = 0.5,
                 source: str = 'clean',
                 target: str = 'noisy',
                 salt_ratio: float = 0.5,
                 prob: float = 1.0,
                 low: float = 0,
                 high: Optional[float] = None,
                 deterministic: bool = False,
                 seed: int = 0):
        for name, value in (('snr', snr), ('salt_ratio', salt_ratio), ('prob', prob)):
            if not 0 <= value <= 1:
                raise ValueError(f'SaltPepperNoise {name} must be in [0, 1], got {value}')
        self.snr, self.salt_ratio, self.prob = float(snr), float(salt_ratio), float(prob)
        self.source, self.target = source, target
        self.low, self.high = low, high
        self.deterministic, self.seed = deterministic, seed

    def _rng(self, results: dict) -> np.random.Generator:
        if self.deterministic:
            return np.random.default_rng([self.seed, int(results.get('sample_idx', 0))])
        return np.random.default_rng(np.random.randint(0, 2**31))

    def corrupt(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The noisy copy of an ``H x W (x C)`` image."""
        out = img.copy()
        if self.prob < 1 and rng.random() >= self.prob:
            return out
        high = self.high
        if high is None:
            high = (np.iinfo(img.dtype).max if np.issubdtype(img.dtype, np.integer)
                    else 255)
        u = rng.random(img.shape[:2])
        noisy = u >= self.snr
        salt = noisy & (u < self.snr + (1 - self.snr) * self.salt_ratio)
        out[salt] = high  # a 2-D mask sets every channel of the pixel
        out[noisy & ~salt] = self.low
        return out

    def transform(self, results: dict) -> dict:
        rng = self._rng(results)
        if not isinstance(results['img'], dict):  # single-image pipeline
            results['img'] = self.corrupt(results['img'], rng)
            return results
        if self.source not in results['img']:
            raise KeyError(f'SaltPepperNoise: no {self.source!r} image in the sample '
                           f'(has {sorted(results["img"])})')
        out = self.corrupt(results['img'][self.source], rng)
        results['img'][self.target] = out
        for key in ('img_shape', 'ori_shape'):
            if isinstance(results.get(key), dict):
                results[key][self.target] = out.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(snr={self.snr}, source={self.source!r}, '
                f'target={self.target!r}, salt_ratio={self.salt_ratio}, '
                f'prob={self.prob}, deterministic={self.deterministic})')
