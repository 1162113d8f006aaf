"""Telling allowed files by their content, and naming them safely."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.webapp.pages.conftest import PDF
from webapp.services.attachments import (
    DOCX,
    OFD,
    XLSX,
    clean_filename,
    sniff,
    with_extension,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 16


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "kind"), [
    (PDF, "application/pdf"),
    (PNG, "image/png"),
    (JPEG, "image/jpeg"),
    (zipped("[Content_Types].xml", "word/document.xml"), DOCX),
    (zipped("[Content_Types].xml", "xl/workbook.xml"), XLSX),
    (zipped("OFD.xml", "Doc_0/Document.xml"), OFD),
    (zipped("readme.txt"), None),
    (zipped("[Content_Types].xml", "ppt/presentation.xml"), None),
    (b"PK\x03\x04 broken zip", None),
    (b"MZ\x90\x00\x03\x00\x00\x00", None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (b"GIF89a\x01\x00\x01\x00", None),
    (b"plain text", None),
])
def test_files_are_told_by_their_bytes(tmp_path: Path, content: bytes, kind: str | None) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert sniff(path) == kind


@pytest.mark.parametrize(("given", "safe"), [
    ("营业执照.pdf", "营业执照.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\报告.docx", "报告.docx"),
    ("a\x00b\nc.pdf", "abc.pdf"),
    ("...", "file"),
    ("", "file"),
    ("x" * 300 + ".pdf", "x" * 200),
])
def test_file_names_lose_folders_and_control_characters(given: str, safe: str) -> None:
    assert clean_filename(given) == safe


def test_the_name_ends_in_what_the_file_is() -> None:
    assert with_extension("报告.pdf", "application/pdf") == "报告.pdf"
    assert with_extension("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert with_extension("invoice.exe", "application/pdf") == "invoice.exe.pdf"
    assert with_extension("表格", XLSX) == "表格.xlsx"
