"""Published costs of the presets at 224x224, batch 1, each column from one source and convention.

- params: exact counts (int) from torchvision 0.28's weights metadata (`meta["num_params"]`) or,
  for models torchvision lacks, pycls's `dev/model_complexity.json` (commit 5719de6; params
  have no convention); vit_s16 only as timm prints it ("22.05", millions, `param_count`).
- flops, paper convention (multiply-adds, no bias adds), G: torchvision's `meta["_ops"]`; None
  where torchvision has no such model (the RegNets' exact pycls counts are checked in
  test_pycls_reference.py, with pycls's bias adds derived).
- flops, fvcore convention, G, and acts, M: timm's `infer_gmacs` and `infer_macts` (fvcore's
  counts), results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv of
  huggingface/pytorch-image-models at commit aa4b585, written with two decimals (trailing
  zeros, dropped in the CSV, are restored here).
- EfficientNet-B0..B5 (at 224, 240, 260, 300, 380, 456 px): params, paper flops and acts from
  pycls's `dev/model_complexity.json` (commit 5719de6; its flops include bias adds, which lie
  below the printed digits and are derived exactly in test_efficientnet.py); fvcore flops from
  the timm CSV above where timm measured at the same resolution (B0, B1), else None.
A printed count matches when the value rounds to the printed digits.
"""

PUBLISHED = {
    "resnet50": (25_557_032, "4.089", "4.11", "11.11"),
    "resnet101": (44_549_160, "7.801", "7.83", "16.23"),
    "resnext50_32x4d": (25_028_904, "4.23", "4.26", "14.40"),
    "regnetx_400mf": (5_157_512, None, "0.40", "3.14"),
    "regnetx_4gf": (22_118_248, None, "3.99", "12.20"),
    "regnety_400mf": (4_344_144, "0.402", "0.41", "3.89"),
    "regnety_4gf": (20_646_656, None, "4.00", "12.29"),
    "regnety_16gf": (83_590_140, "15.912", "15.96", "23.04"),
    "vit_s16": ("22.05", None, "4.61", "11.95"),
    "vit_b16": (86_567_656, "17.564", "17.58", "23.90"),
    "vit_l16": (304_326_632, "61.555", "61.60", "63.52"),
    "convnext_t": (28_589_128, "4.456", "4.47", "13.44"),
    "convnext_s": (50_223_688, "8.684", "8.71", "21.56"),
    "convnext_b": (88_591_464, "15.355", "15.38", "28.75"),
    "efficientnet_b0": (5_288_548, "0.386", "0.40", "6.748"),
    "efficientnet_b1": (7_794_184, "0.687", "0.71", "10.884"),
    "efficientnet_b2": (9_109_994, "0.994", None, "13.833"),
    "efficientnet_b3": (12_233_232, "1.827", None, "23.831"),
    "efficientnet_b4": (19_341_616, "4.394", None, "49.489"),
    "efficientnet_b5": (30_389_784, "10.266", None, "98.857"),
}


def as_printed(value: float, printed: str) -> str:
    """`value` rounded to as many decimals as `printed` shows."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{decimals}f}"


def agrees(value: int, published: int | str | None, unit: float) -> bool:
    """An exact published count equals `value`; a printed one (in `unit`s) is its rounding."""
    if published is None:
        return True
    if isinstance(published, int):
        return value == published
    return as_printed(value / unit, published) == published
