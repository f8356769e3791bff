"""A page opened in headless Chromium with the network closed, and what went wrong there."""

from __future__ import annotations

from typing import Any

LOCAL = ("file:", "data:", "blob:", "http://127.0.0.1", "http://localhost")
"""URLs a page may load: everything else is aborted and recorded."""


class OfflineVisit:
    """Opens ``url``, aborting every request that is not local, and waits for MathJax.

    Attributes
    ----------
    page : playwright Page
        The open page.
    console_errors, failed, blocked : list of str
        Console errors and page errors; requests that failed or answered >= 400; requests
        to other hosts, which were aborted.
    """

    def __init__(self, browser: Any, url: str, *, wait_until: str = "load") -> None:
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.blocked: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("requestfailed", lambda request: self.failed.append(request.url))
        self.page.on("response", self._on_response)
        self.page.route("**/*", self._only_local)
        self.page.goto(url, wait_until=wait_until)
        self.page.wait_for_function("window.MathJax === undefined || !!(MathJax.startup && "
                                    "MathJax.startup.promise)", timeout=20_000)
        self.page.evaluate("() => window.MathJax && MathJax.startup.promise")

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def _only_local(self, route: Any) -> None:
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()
