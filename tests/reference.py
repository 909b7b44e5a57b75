"""Published costs of the presets at 224x224, batch 1 (torchvision, timm, pycls model zoo).

params exact; flops (paper convention) in G, flops (fvcore convention) in G and acts in M, each
as printed: a count matches when it rounds to the printed digits.
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
}


def as_printed(value: float, printed: str) -> str:
    """`value` rounded to as many decimals as `printed` shows."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{decimals}f}"
