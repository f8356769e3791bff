"""nncourse.display: animations and precomputed sliders render as self-contained HTML."""

import base64
import json
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib import animation, pyplot  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nncourse.display import animation_html, slider_html  # noqa: E402


def _tiny_animation() -> animation.FuncAnimation:
    fig, ax = pyplot.subplots(figsize=(2, 2), dpi=40)
    (line,) = ax.plot([], [])
    return animation.FuncAnimation(fig, lambda i: line.set_data([0, i], [0, i]), frames=3)


def test_animation_html_has_frames_and_no_remote_links():
    html = animation_html(_tiny_animation()).data
    assert html.count("data:image/png;base64") == 3  # one embedded frame per animation frame
    assert not re.search(r"<link[^>]*https?://", html)


def test_animation_html_closes_the_figure():
    anim = _tiny_animation()
    number = anim._fig.number
    animation_html(anim)
    assert not pyplot.fignum_exists(number)


def _slider_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="nncourse-slider-data">(.*?)'
                      r"</script>", html, re.DOTALL)
    assert match, "no slider data in the HTML"
    return json.loads(match.group(1))


def _draw_point(x: float, colour: str = "red") -> Figure:
    fig = Figure(figsize=(1, 1), dpi=30)
    fig.add_subplot().plot([x], [x], "o", color=colour)
    return fig


def test_slider_html_has_one_frame_per_combination_and_no_remote_urls():
    html = slider_html(_draw_point, {"x": [0.0, 1.0, 2.0], "colour": ["red", "blue"]},
                       start={"x": 1.0, "colour": "blue"}, colors=0).data
    data = _slider_data(html)
    assert data["labels"] == [["0", "1", "2"], ["red", "blue"]]
    assert len(data["frames"]) == 6 and len(data["images"]) == 6  # all six figures differ
    # The first control varies slowest: frame index = x_index * 2 + colour_index.
    first = data["images"][data["frames"][1 * 2 + 1]]
    assert f'<img src="data:image/png;base64,{first}"' in html
    assert html.count('type="range"') == 1 and html.count("<select") == 1
    assert html.count("<option") == 2 and 'value="1" selected' in html
    assert 'max="2" step="1" value="1"' in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "require" not in html and "http" not in html
    for image in data["images"]:
        assert base64.b64decode(image).startswith(b"\x89PNG")


def test_slider_html_stores_identical_figures_once_and_closes_them():
    before = pyplot.get_fignums()

    def draw(x: int) -> Figure:
        fig = pyplot.figure(figsize=(1, 1), dpi=30)
        fig.add_subplot().plot([0, 1], [0, 1])
        return fig

    data = _slider_data(slider_html(draw, {"x": [1, 2, 3, 4]}).data)
    assert data["frames"] == [0, 0, 0, 0] and len(data["images"]) == 1
    assert pyplot.get_fignums() == before


def test_slider_html_rejects_bad_start_values():
    with pytest.raises(ValueError, match="not among"):
        slider_html(_draw_point, {"x": [0.0, 1.0]}, start={"x": 0.5})
    with pytest.raises(ValueError, match="unknown"):
        slider_html(_draw_point, {"x": [0.0]}, start={"y": 0.0})
    with pytest.raises(ValueError, match="at least one"):
        slider_html(_draw_point, {"x": []})
