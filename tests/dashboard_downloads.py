"""Pressing the dashboard's download buttons in AppTest: every download is deferred (built when pressed), so the
test keeps the run's media file manager and runs the callable the button registered — exactly what Streamlit
does when the browser asks for the file over the session's connection.

    media = keep_media(monkeypatch)
    at.run()
    for button in download_buttons(at): name, data = press(media, button)
"""

from __future__ import annotations

import io

import openpyxl
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest


def keep_media(monkeypatch) -> list[MediaFileManager]:
    """The media file managers of the following AppTest runs, the latest last."""
    import streamlit.testing.v1.app_test as app_test

    managers: list[MediaFileManager] = []

    class Kept(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Kept)
    return managers


def download_buttons(at: AppTest) -> list:
    return list(at.get("download_button"))


def press(managers: list[MediaFileManager], button) -> bytes:
    """The bytes the button delivers (raises what the download raises, e.g. PermissionDenied)."""
    file_id = button.proto.deferred_file_id
    assert file_id, f"download {button.proto.label!r} is not deferred: its file exists before it is pressed"
    entry = managers[-1]._deferred_callables[file_id]
    data = entry["callable"]()
    return data if isinstance(data, bytes) else data.encode("utf-8")


def text_of(data: bytes) -> str:
    """All the text of a downloaded file (CSV, Excel or PDF), for searching."""
    if data.startswith(b"PK"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for c in row if c is not None)
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8-sig")
