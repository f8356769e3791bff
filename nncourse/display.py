"""Show matplotlib animations in the book and in notebooks without any network access.

``Animation.to_jshtml()`` embeds every frame, but its HTML also links a stylesheet from a
CDN for the play buttons. The book is read offline, so that link is removed: the book's
theme already ships the icon font the buttons use.
"""

import re

from IPython.display import HTML
from matplotlib import animation, pyplot

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
