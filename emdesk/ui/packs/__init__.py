"""Breach packs in the desktop: the dialog that builds, shows, issues and amends one.

- ``dialog``   ``PackDialog(ctx, incident_ids, parent)``: build on the store lane with
               progress, page 1, the versions, Issue / Amend / Save
- ``preview``  page 1 of a PDF drawn by QtPdf (``page_image``, ``PagePreview``)
- ``versions`` the versions table (status, built, issued to whom, SHA-256)
"""
from .dialog import PackDialog, due_words
from .preview import PagePreview, PdfError, page_image

__all__ = ["PackDialog", "PagePreview", "PdfError", "due_words", "page_image"]
