"""The pack's first page on screen, drawn by Qt's own PDF engine (QtPdf, PDFium): the
decision summary as the agency will read it, without writing a file or running pdftoppm."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QWidget


class PdfError(ValueError):
    """The bytes are not a PDF QtPdf can read; the message says what it reported."""


@contextmanager
def _opened(pdf: bytes) -> Iterator[QPdfDocument]:
    """The PDF loaded from memory (no file written), closed after use."""
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    try:
        yield doc
    finally:
        doc.close()
        buffer.close()


def page_image(pdf: bytes, page: int = 0, *, width: int = 800) -> QImage:
    """Page ``page`` of ``pdf`` as an image ``width`` pixels wide (height in proportion)."""
    with _opened(pdf) as doc:
        if doc.status() != QPdfDocument.Status.Ready or doc.pageCount() == 0:
            raise PdfError(f"the pack's PDF could not be read ({doc.error().name}); rebuild the pack")
        if not 0 <= page < doc.pageCount():
            raise PdfError(f"page {page + 1}: the PDF has {doc.pageCount()} pages")
        points = doc.pagePointSize(page)
        height = round(width * points.height() / points.width())
        image = doc.render(page, QSize(width, height))
    # PDFium leaves the paper transparent: on white, as it is printed.
    paper = QImage(image.size(), QImage.Format.Format_RGB32)
    paper.fill(Qt.GlobalColor.white)
    painter = QPainter(paper)
    painter.drawImage(0, 0, image)
    painter.end()
    return paper


def page_count(pdf: bytes) -> int:
    with _opened(pdf) as doc:
        return doc.pageCount() if doc.status() == QPdfDocument.Status.Ready else 0


class PagePreview(QScrollArea):
    """Page 1 at the width of the pane, scrolled down when it is taller."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("packPreview")
        self.setWidgetResizable(True)
        self.setAccessibleName("First page of the breach pack")
        self.label = QLabel("The first page shows here once the pack is built.", objectName="packPreviewPage")
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setWidget(self.label)
        self.image: QImage | None = None
        self.pages = 0

    def show_pdf(self, pdf: bytes) -> None:
        """Draw page 1 of ``pdf``; raises ``PdfError`` if it cannot be read."""
        width = max(480, self.viewport().width() - 8)
        self.image = page_image(pdf, 0, width=width)
        self.pages = page_count(pdf)
        self.label.setPixmap(QPixmap.fromImage(self.image))
        self.label.setMinimumHeight(self.image.height())

    def show_text(self, text: str) -> None:
        self.image = None
        self.label.clear()
        self.label.setText(text)
