"""Published costs of the presets at their resolution, batch 1 (torchvision, timm, pycls).

params exact; flops (paper convention) in G, flops (fvcore convention) in G and acts in M, each
as printed: a count matches when it rounds to the printed digits. EfficientNets (224-456 px):
pycls's counts (its flops include bias adds, below the printed digits; exact in
test_efficientnet.py) and timm's fvcore flops where timm measured at the same resolution (None
where it did not).
"""

PUBLISHED = {
    "resnet50": (25_557_032, "4.089", "4.11", "11.11"),
    "resnet101": (44_549_160, "7.801", "7.83", "16.23"),
    "resnext50_32x4d": (25_028_904, "4.230", "4.26", "14.40"),
    "regnetx_400mf": (5_157_512, "0.398", "0.40", "3.143"),
    "regnetx_4gf": (22_118_248, "3.964", "3.99", "12.20"),
    "regnety_400mf": (4_344_144, "0.402", "0.41", "3.892"),
    "regnety_4gf": (20_646_656, "3.973", "4.00", "12.29"),
    "regnety_16gf": (83_590_140, "15.912", "15.96", "23.04"),
    "vit_s16": (22_050_664, "4.599", "4.61", "11.95"),
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
