"""Altair charts → PNG for the meeting pack, with vl-convert-python.

Why vl-convert: it is a self-contained wheel from PyPI (the Vega and Vega-Lite JavaScript
run in an embedded Deno/V8, text through resvg), so charts render the same as on screen with
no browser, no node and no download at run time. The bundled DejaVu Sans (``fonts/``) is
registered so accents and typographic characters render on a machine without system fonts;
number and date formats follow the language (d3 locales fr-FR / en-GB).
"""
from __future__ import annotations

import threading
from pathlib import Path

import vl_convert as vlc

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu Sans"
D3_LOCALES = {"fr": "fr-FR", "en": "en-GB"}
SCALE = 2  # device pixels per CSS pixel: sharp at ~170 mm wide
_lock = threading.Lock()
_registered = False


def _register_fonts() -> None:
    global _registered
    with _lock:
        if not _registered:
            vlc.register_font_directory(str(FONT_DIR))
            _registered = True


def _single_view(spec: dict) -> bool:
    return "mark" in spec or "layer" in spec


def _static(node, removed: set[str]):
    """Drop interactive selections (paper cannot be clicked): selection params go, and a
    condition on one becomes its "selected" branch (with nothing selected, everything is)."""
    if isinstance(node, list):
        return [_static(v, removed) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "params" and isinstance(value, list):
            kept = []
            for p in value:
                if isinstance(p, dict) and "select" in p:
                    removed.add(p.get("name"))
                else:
                    kept.append(p)
            if kept:
                out[key] = kept
            continue
        out[key] = value
    for key, value in list(out.items()):
        if isinstance(value, dict) and isinstance(value.get("condition"), dict) and value["condition"].get("param") in removed:
            chosen = {k: v for k, v in value["condition"].items() if k not in ("param", "empty")}
            out[key] = chosen
        else:
            out[key] = _static(value, removed)
    return out


def spec_for_print(chart, width: int) -> dict:
    """The chart's Vega-Lite spec with a fixed width (screens stretch charts to the
    container; paper needs a number) and the bundled font."""
    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    removed: set[str] = set()
    spec = _static(_static(spec, removed), removed)  # twice: params may be listed after their uses
    if _single_view(spec) and spec.get("width") in (None, "container"):
        spec["width"] = width
    config = dict(spec.get("config") or {})
    config.setdefault("font", FONT)
    config.setdefault("background", "white")
    # y-axis titles horizontal, above the axis: a rotated title beside long category labels
    # (organisation names, stages) collides with them in the static renderer
    for key, align in (("axisYDiscrete", "right"), ("axisYQuantitative", "left")):
        config.setdefault(key, {"titleAngle": 0, "titleAlign": align, "titleAnchor": "end", "titleX": 0, "titleY": -8,
                                "titleBaseline": "bottom"})
    spec["config"] = config
    return spec


def png(chart, lang: str = "en", width: int = 640, scale: float = SCALE) -> bytes:
    """PNG bytes of an Altair chart, ``width`` CSS pixels wide (plus its axes and legend)."""
    _register_fonts()
    locale = D3_LOCALES.get(lang, "en-GB")
    return vlc.vegalite_to_png(spec_for_print(chart, width), scale=scale, format_locale=locale,
                               time_format_locale=locale)
