"""The feedback page renders its maths offline: MathJax is inlined into each page.

nbgrader's feedback template calls nbconvert's ``mathjax()`` macro without arguments, so it
always loads MathJax 2 from a public CDN (``HTMLExporter.mathjax_url`` is ignored) and a student
who opens the page without network sees raw TeX (``$\\partial L / \\partial y_k$``).
:class:`FeedbackPage` is nbgrader's HTML exporter with that macro replaced: the page carries
the book's vendored MathJax 3 itself (``make setup`` copies ``node_modules/mathjax/es5`` to
``_vendor/vendor/mathjax``).

Why inline, and which component (MathJax 3.2.2, measured; a ch02 page is 157 kB without it):

- feedback pages are handed to students one by one, often as a single file (e-mail, LMS):
  only a self-contained page renders wherever it is opened. A MathJax folder copied beside
  ``feedback/`` and a relative ``<script src>`` break as soon as the page travels alone;
- ``tex-chtml.js`` (1.16 MB) needs its 392 kB of woff fonts as separate files, whose URL
  MathJax builds itself (``chtml.fontURL``): they cannot be inlined cleanly;
- ``tex-svg.js`` (2.11 MB) needs no fonts, but autoloads TeX extensions (``\\boldsymbol``,
  ``\\color``, ``\\cancel``, ...) from files on demand, which an inlined page does not have;
- ``tex-svg-full.js`` (2.28 MB, 0.7 MB gzipped) needs no fonts and holds every TeX
  extension: whatever a student writes in an answer renders. It is what is inlined: a
  page grows to about 2.4 MB, a fair price for a file a student can open anywhere.

MathJax is configured as nbconvert configures MathJax 2 for notebooks (``$...$``,
``\\(...\\)``, ``$$...$$``, ``\\[...\\]``, escaped dollars, AMS numbering). Without the
vendored file (a machine without ``make setup``), pages carry no MathJax at all (their maths
shows as TeX; nothing is ever loaded from the network) and a warning says so once per process:
feedback is always written, grading never fails for it.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, DictLoader, Environment
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from traitlets import Unicode, default

log = logging.getLogger(__name__)

VENDORED_MATHJAX = (Path(__file__).resolve().parents[2] / "_vendor" / "vendor" / "mathjax"
                    / "tex-svg-full.js")
"""The MathJax component inlined into each page (``make setup`` puts it there)."""

MATHJAX_CONFIG = {
    "tex": {
        "inlineMath": [["$", "$"], ["\\(", "\\)"]],
        "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
        "processEscapes": True,
        "processEnvironments": True,
        "tags": "ams",
    },
    "svg": {"fontCache": "global"},
}
"""``window.MathJax``: the delimiters and numbering of nbconvert's MathJax 2 set-up."""

_GLOBAL = "nncourse_inline_mathjax"
_MACRO = ("{%- macro mathjax(url=None) -%}\n{{ " + _GLOBAL + " }}\n{%- endmacro %}\n")
"""Replaces nbconvert's ``mathjax.html.j2`` (its ``url`` argument, a CDN's, is ignored)."""
_WITHOUT_MATHJAX = "<!-- no vendored MathJax (run `make setup`): maths is shown as TeX -->\n"
_IMAGE_WITHOUT_ALT = re.compile(r"(<img\b(?![^>]*\salt=)[^>]*?)(\s*/?>)", re.IGNORECASE)
NO_ALT_TEXT = "No description has been provided for this image"
"""The alternative text nbconvert gives an image that has none."""


@functools.lru_cache(maxsize=4)
def inline_mathjax(path: str) -> str | None:
    """The ``<script>`` elements that configure and run MathJax from ``path``, inline.

    Parameters
    ----------
    path : str
        A single-file MathJax 3 component, e.g. ``tex-svg-full.js``.

    Returns
    -------
    str or None
        The HTML to put in the page's head; None (with a warning, once per process and
        path) when the file cannot be read or cannot sit inside a ``<script>`` element.
    """
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        log.warning("nncourse: feedback pages carry no MathJax (their maths shows as TeX): "
                    "no vendored MathJax (%s); run `make setup`", error)
        return None
    if re.search(r"</script|<script", source, re.IGNORECASE):
        log.warning("nncourse: feedback pages carry no MathJax: %s contains a <script> tag "
                    "and cannot be inlined", path)
        return None
    return (f"<!-- MathJax 3 ({Path(path).name}), inlined so that the maths renders offline -->\n"
            f"<script>window.MathJax = {json.dumps(MATHJAX_CONFIG)};</script>\n"
            f"<script>{source}</script>\n")


class ProcessBytecodeCache(BytecodeCache):
    """Compiled Jinja templates, kept in memory for the life of the process.

    Each submission's feedback gets a fresh exporter, hence a fresh Jinja environment that
    would parse and compile nbconvert's dozen templates again (a sixth of a second per page);
    a grading worker writes hundreds of pages with the same templates. Jinja checks each
    entry against its template's source, so an edited template is compiled anew.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = ProcessBytecodeCache()


class RememberedHighlight(Highlight2HTML):
    """nbconvert's code highlighting, remembered per process.

    Most of a feedback page's code is the same on every student's page (the given cells,
    the tests), and pygments takes a tenth of a page's time to colour it. The HTML depends
    only on the source, the language, the cell's ``magics_language`` and the formatter's
    options: the key of what is remembered (the most recent cells, see :func:`_highlighted`).
    """

    def __call__(self, source: str, language: str | None = None,
                 metadata: Any = None) -> str:
        magics = (metadata or {}).get("magics_language")
        try:
            options = json.dumps(self.extra_formatter_options, sort_keys=True)
        except TypeError:  # options that JSON cannot key: highlighted each time
            return super().__call__(source, language, metadata)
        return _highlighted(source, language or self.pygments_lexer, magics, options)


@functools.lru_cache(maxsize=4096)
def _highlighted(source: str, language: str, magics: str | None, options: str) -> str:
    """nbconvert's HTML of ``source`` (``options``: the formatter's, as JSON)."""
    highlight = Highlight2HTML(pygments_lexer=language,
                               extra_formatter_options=json.loads(options))
    return highlight(source, language, {"magics_language": magics} if magics else None)


class FeedbackPage(HTMLExporter):
    """nbgrader's feedback exporter, whose pages carry MathJax instead of loading it.

    Set as ``c.GenerateFeedback.exporter_class`` in the course's ``nbgrader_config.py``;
    nbgrader's template and settings (``template_name = "feedback"``) stay as they are.
    """

    mathjax_file = Unicode(
        str(VENDORED_MATHJAX),
        help="Single-file MathJax 3 component to inline; pages show TeX if it is missing.",
    ).tag(config=True)

    @default("extra_loaders")
    def _extra_loaders_default(self) -> list[DictLoader]:
        return [DictLoader({"mathjax.html.j2": _MACRO})]

    def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        """nbconvert's HTML conversion, without its second pass through BeautifulSoup.

        ``HTMLExporter`` parses and re-serialises every page it renders to give images an
        alternative text and the lab template's cells a ``tabindex``: a seventh of a second
        per feedback page, a sixth of a grading worker's time per submission. nbgrader's
        feedback template is the classic one, which has no such cells; images get the same
        alternative text here, by one substitution (a test renders a page both ways and
        compares them).
        """
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        highlight_code = self.filters.get("highlight_code",
                                          RememberedHighlight(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMAGE_WITHOUT_ALT.sub(rf'\1 alt="{NO_ALT_TEXT}"\2', html), resources

    def _create_environment(self) -> Environment:
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED_TEMPLATES
        environment.globals[_GLOBAL] = inline_mathjax(self.mathjax_file) or _WITHOUT_MATHJAX
        return environment
