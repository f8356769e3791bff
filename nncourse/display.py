"""Show matplotlib animations in the book and in notebooks without any network access.

``Animation.to_jshtml()`` embeds every frame, but its HTML also links a stylesheet from a
CDN for the play buttons. The book is read offline, so that link is removed: the book's
theme already ships the icon font the buttons use.

:func:`slider_html` does the same for sliders: it draws a figure for every value the
controls offer and swaps them in the browser, so the sliders work on a static page.
"""

import base64
import hashlib
import html
import io
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence

from IPython.display import HTML
from matplotlib import animation, pyplot
from matplotlib.figure import Figure
from PIL import Image

_EXTERNAL_LINK = re.compile(r"<link[^>]*href=[\"']https?://[^>]*>\s*", re.IGNORECASE)


def animation_html(anim: animation.Animation, *, close: bool = True) -> HTML:
    """Render an animation as self-contained HTML with play controls.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        The animation, e.g. from :func:`nncourse.plotting.animate_descent`.
    close : bool, default True
        Close the animation's figure so the notebook does not also show its last frame.

    Returns
    -------
    IPython.display.HTML
        The frames (base64 PNG) and the JavaScript player, with no external references.
    """
    html = _EXTERNAL_LINK.sub("", anim.to_jshtml())
    if close:
        pyplot.close(anim._fig)
    return HTML(html)


def _png_base64(fig: Figure, dpi: int, colors: int) -> str:
    """Save a figure as a palette PNG and return it base64-encoded (ASCII)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot.close(fig)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if colors:
        image = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _label(value: object) -> str:
    """Text shown for a control's value: floats with three significant digits."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _control(number: int, name: str, labels: list[str], start: int, menu: bool) -> str:
    """One control: a drop-down list if ``menu``, else a range slider over the indices."""
    label = html.escape(name)
    if menu:
        options = "".join(
            f'<option value="{i}"{" selected" if i == start else ""}>{html.escape(text)}</option>'
            for i, text in enumerate(labels)
        )
        return (f'<label>{label} <select data-control="{number}" aria-label="{label}">'
                f"{options}</select></label>")
    return (f'<label>{label} <input type="range" data-control="{number}" min="0" '
            f'max="{len(labels) - 1}" step="1" value="{start}" aria-label="{label}"> '
            f"<output>{html.escape(labels[start])}</output></label>")


_SLIDER_NUMBERS = itertools.count()
_SLIDER_SCRIPT = """(function () {
  var root = document.getElementById("%s");
  var data = JSON.parse(root.querySelector("script.nncourse-slider-data").textContent);
  var image = root.querySelector("img");
  var controls = root.querySelectorAll("[data-control]");
  function update() {
    var index = 0;
    controls.forEach(function (control, k) {
      var i = Number(control.value);
      index = index * data.labels[k].length + i;
      var shown = control.parentNode.querySelector("output");
      if (shown) { shown.textContent = data.labels[k][i]; }
    });
    image.src = "data:image/png;base64," + data.images[data.frames[index]];
  }
  controls.forEach(function (control) { control.addEventListener("input", update); });
})();"""


def slider_html(
    draw: Callable[..., Figure],
    values: Mapping[str, Sequence[object]],
    *,
    start: Mapping[str, object] | None = None,
    dpi: int = 72,
    colors: int = 64,
    alt: str = "",
) -> HTML:
    """Precompute a figure for every combination of slider values; swap them in the browser.

    The result needs no Python kernel and no network: each figure is an embedded PNG, and a
    few lines of JavaScript show the one that matches the controls. Numeric values get a
    range slider, text values a drop-down list. Identical figures are stored once.

    Parameters
    ----------
    draw : callable
        Called as ``draw(**{name: value, ...})`` once per combination of values; returns the
        :class:`matplotlib.figure.Figure` to show. The figure is closed after it is saved.
    values : mapping of str to sequence
        The values each control offers, in order, e.g.
        ``{"lr": [0.01, 0.1, 0.2], "optimizer": ["SGD", "Adam"]}``. The number of figures
        is the product of the lengths: keep it to a few hundred.
    start : mapping of str to object, optional
        Initial value of some controls (it must be one of their values); the first value
        of the others.
    dpi : int, default 72
        Resolution of the PNGs.
    colors : int, default 64
        Size of each PNG's colour palette, which makes contour plots several times
        smaller; 0 keeps full colour.
    alt : str, default ""
        Alternative text of the image.

    Returns
    -------
    IPython.display.HTML
        The controls, the initial figure and the script, with no external references.

    Raises
    ------
    ValueError
        If there are no controls, a control offers no values, or a start value is not
        among its control's values.
    """
    names = list(values)
    choices = [list(values[name]) for name in names]
    if not names or not all(choices):
        raise ValueError("every control needs at least one value")
    start = dict(start or {})
    unknown = set(start) - set(names)
    if unknown:
        raise ValueError(f"start values for unknown controls {sorted(unknown)}")
    initial = []
    for name, options in zip(names, choices, strict=True):
        if name in start and start[name] not in options:
            raise ValueError(f"start value {start[name]!r} is not among the values of {name!r}")
        initial.append(options.index(start[name]) if name in start else 0)

    images: list[str] = []
    seen: dict[str, int] = {}
    frames: list[int] = []
    for combination in itertools.product(*choices):
        png = _png_base64(draw(**dict(zip(names, combination, strict=True))), dpi, colors)
        frames.append(seen.setdefault(png, len(seen)))
        if frames[-1] == len(images):
            images.append(png)

    labels = [[_label(value) for value in options] for options in choices]
    first = 0
    for index, options in zip(initial, choices, strict=True):
        first = first * len(options) + index
    # "</" would end the script element early; "<\/" is the same string in JSON.
    data = json.dumps({"labels": labels, "frames": frames, "images": images}).replace("</", "<\\/")
    # Deterministic, so that a rebuilt page does not change; the counter separates copies.
    digest = hashlib.sha1(data.encode(), usedforsecurity=False).hexdigest()[:12]
    element_id = f"nncourse-slider-{digest}-{next(_SLIDER_NUMBERS)}"
    controls = "".join(
        _control(k, name, labels[k], initial[k], all(isinstance(v, str) for v in choices[k]))
        for k, name in enumerate(names)
    )
    return HTML(
        f'<div class="nncourse-slider" id="{element_id}">'
        f'<div class="nncourse-slider-controls" style="display:flex;gap:1.5em;'
        f'flex-wrap:wrap">{controls}</div>'
        f'<img src="data:image/png;base64,{images[frames[first]]}" alt="{html.escape(alt)}" '
        f'style="max-width:100%">'
        f'<script type="application/json" class="nncourse-slider-data">'
        f"{data}</script>"
        f"<script>{_SLIDER_SCRIPT % element_id}</script></div>"
    )
