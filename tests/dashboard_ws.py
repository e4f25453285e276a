"""A minimal Streamlit websocket client: one simulated user of a running `zjtx serve` process.

It speaks the browser's protocol (protobuf BackMsg / ForwardMsg over /_stcore/stream): opens a session, signs in
through the real login form, opens pages by their URL path and waits for each script run to finish. Used by the
concurrency test and the load benchmark (benchmarks/bench_load.py), so that they measure the dashboard
processes themselves (their caches, their threads, their database connections), not a copy of the app.

A run "answers" when the server reports the script finished; the elements it drew are counted and any exception
element (a page that raised) is collected with its message.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED_OK = 0  # ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FINISHED_EARLY_FOR_RERUN = 2  # st.rerun(): another run follows


class PageError(Exception):
    """The page did not answer, or answered with an exception."""


@dataclass
class PageRun:
    page: str
    seconds: float
    elements: int = 0
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # st.error boxes (a user-facing error message)
    widgets: dict[str, str] = field(default_factory=dict)  # user key → widget id
    markdown: list[str] = field(default_factory=list)
    downloads: dict[str, tuple[str, str]] = field(default_factory=dict)  # label → (deferred file id, url)


class DashboardSession:
    """One browser tab. `async with DashboardSession(url) as s: await s.sign_in(u, p); await s.visit("registry")`."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.url = base_url.rstrip("/").replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        self.timeout = timeout
        self.pages: dict[str, str] = {}  # url path ("" = default page) → page_script_hash
        self._ws = None
        self._page = ""
        self.session_id = ""  # the server's id of this session (new_session), which operations must name

    async def __aenter__(self) -> DashboardSession:
        self._ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()

    async def open(self) -> PageRun:
        """The first run, as a browser arriving (the sign-in page when nobody is signed in)."""
        return await self._run("", widget_states=[])

    async def sign_in(self, username: str, password: str) -> PageRun:
        """Fill the login form and submit it; returns the run of the page shown after sign-in."""
        form = await self.open()
        try:
            user_id, pass_id, submit_id = (form.widgets[k] for k in ("login_username", "login_password",
                                                                      "login_submit"))
        except KeyError:
            raise PageError(f"no login form on the first page (widgets: {sorted(form.widgets)})") from None
        states = BackMsg().rerun_script.widget_states
        for widget_id, value in ((user_id, username), (pass_id, password)):
            w = states.widgets.add()
            w.id, w.string_value = widget_id, value
        w = states.widgets.add()
        w.id, w.trigger_value = submit_id, True
        run = await self._run("", widget_states=list(states.widgets))
        if "login_username" in run.widgets:
            raise PageError(f"sign-in refused: {run.errors}")
        return run

    async def visit(self, page: str, query_string: str = "") -> PageRun:
        """Open a page by its URL path (as in the navigation: "" overview, "registry", "firm" ...)."""
        if page not in self.pages:
            raise PageError(f"no page {page!r}; the navigation has {sorted(self.pages)}")
        return await self._run(page, widget_states=[], query_string=query_string)

    async def press_download(self, deferred_file_id: str) -> str:
        """What the browser does when a deferred download button is pressed: ask this session to build the
        file; returns the URL the file is then served at (PageError with Streamlit's message if it fails)."""
        msg = BackMsg()
        request_id = f"download-{time.monotonic_ns()}"
        msg.backend_operation_request.request_id = request_id
        msg.backend_operation_request.session_id = self.session_id
        msg.backend_operation_request.deferred_file.file_id = deferred_file_id
        await self._ws.send(msg.SerializeToString())

        async def answer() -> str:
            while True:
                fm = ForwardMsg()
                fm.ParseFromString(await self._ws.recv())
                if fm.WhichOneof("type") == "backend_operation_response" and \
                        fm.backend_operation_response.request_id == request_id:
                    response = fm.backend_operation_response
                    if response.error_msg:
                        raise PageError(f"download refused: {response.error_msg}")
                    return response.deferred_file.url

        try:
            return await asyncio.wait_for(answer(), self.timeout)
        except TimeoutError:
            raise PageError(f"the download did not answer within {self.timeout:.0f} s") from None

    async def _run(self, page: str, widget_states: list, query_string: str = "") -> PageRun:
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page
        msg.rerun_script.page_script_hash = self.pages.get(page, "")
        msg.rerun_script.widget_states.widgets.extend(widget_states)
        started = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        run = PageRun(page=page, seconds=0.0)
        try:
            await asyncio.wait_for(self._collect(run), self.timeout)
        except TimeoutError:
            raise PageError(f"page {page!r} did not finish within {self.timeout:.0f} s") from None
        run.seconds = time.perf_counter() - started
        return run

    async def _collect(self, run: PageRun) -> None:
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self._ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "new_session" and fm.new_session.initialize.session_id:
                self.session_id = fm.new_session.initialize.session_id
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                self._element(fm.delta.new_element, run)
            elif kind == "script_finished":
                if fm.script_finished == FINISHED_EARLY_FOR_RERUN:
                    run.widgets.clear()  # the next run redraws the page
                    continue
                if fm.script_finished != FINISHED_OK:
                    raise PageError(f"page {run.page!r}: script finished with status {fm.script_finished}")
                return

    @staticmethod
    def _element(element, run: PageRun) -> None:
        run.elements += 1
        kind = element.WhichOneof("type")
        body = getattr(element, kind)
        if kind == "exception":
            run.exceptions.append(f"{body.type}: {body.message}")
        elif kind == "alert" and body.format == body.ERROR:
            run.errors.append(body.body)
        elif kind == "markdown":
            run.markdown.append(body.body)
        elif kind == "download_button":
            run.downloads[body.label] = (body.deferred_file_id, body.url)
        widget_id = getattr(body, "id", "")
        if widget_id.startswith("$$ID-"):
            run.widgets[widget_id.split("-", 2)[2]] = widget_id
