"""Sphinx extension: keep the built book free of scripts that need the network.

Jupyter Book 1 always loads sphinx-thebe, which declares a constant pointing at a CDN in an
inline script (added twice, which Chromium reports as a console error) and loads a helper
script. The book has no live-kernel buttons, so both are dropped from every page.
"""

from sphinx.application import Sphinx

_THEBE_MARKERS = ("THEBE_JS_URL", "sphinx-thebe.js")


def _is_thebe_script(script: object) -> bool:
    text = str(getattr(script, "filename", "") or "")
    text += str(getattr(script, "attributes", {}).get("body", ""))
    return any(marker in text for marker in _THEBE_MARKERS)


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe_script(s)]


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
