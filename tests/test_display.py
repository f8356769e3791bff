"""nncourse.display: animations render as self-contained HTML."""

import re

import matplotlib

matplotlib.use("Agg")

from matplotlib import animation, pyplot  # noqa: E402

from nncourse.display import animation_html  # noqa: E402


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
