"""No network, ever: a document linking an image, a field and a template by address is
converted to PDF without a single request reaching the address."""

from __future__ import annotations

import http.server
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from PIL import Image
from test_documents_pdf import besoin_libreoffice

import certidocs.libreoffice
from certidocs.libreoffice import convert_to_pdf, strip_external_links

pytestmark = pytest.mark.libreoffice

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture
def serveur() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that serves a PNG to anyone and counts the requests."""
    requests: list[str] = []
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(png, "PNG")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png.getvalue())

        do_HEAD = do_GET

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def _linked_document(path: Path, base: str) -> Path:
    """A .docx whose picture, field and attached template point at ``base``."""
    document = docx.Document()
    document.add_paragraph("Avant l'image")
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(png, "PNG")
    png.seek(0)
    document.add_picture(png)
    document.add_paragraph("INCLUDEPICTURE")
    document.save(str(path))
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    xml = members["word/document.xml"].decode()
    xml = re.sub(r'r:embed="[^"]+"', 'r:link="rIdDistant"', xml)  # linked, not embedded
    field = (f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space='
             f'"preserve"> INCLUDEPICTURE "{base}/champ.png" \\d </w:instrText></w:r><w:r>'
             '<w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>image</w:t></w:r><w:r>'
             '<w:fldChar w:fldCharType="end"/></w:r>')
    xml = xml.replace("<w:t>INCLUDEPICTURE</w:t></w:r>", "<w:t>champ</w:t></w:r>" + field)
    members["word/document.xml"] = xml.encode()
    rels = members["word/_rels/document.xml.rels"].decode().replace(
        "</Relationships>",
        f'<Relationship Id="rIdDistant" Type="{R}/image" Target="{base}/logo.png" '
        'TargetMode="External"/></Relationships>')
    members["word/_rels/document.xml.rels"] = rels.encode()
    settings = members["word/settings.xml"].decode()
    settings = re.sub(r"(<w:settings[^>]*>)", r'\1<w:attachedTemplate r:id="rIdModele"/>',
                      settings)
    if "xmlns:r=" not in settings.split(">", 2)[1]:
        settings = settings.replace("<w:settings ", f'<w:settings xmlns:r="{R}" ', 1)
    members["word/settings.xml"] = settings.encode()
    members["word/_rels/settings.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
        'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdModele" '
        f'Type="{R}/attachedTemplate" Target="{base}/modele.dotx" TargetMode="External"/>'
        "</Relationships>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return path


def test_external_links_stripped(tmp_path: Path) -> None:
    source = _linked_document(tmp_path / "lettre.docx", "http://127.0.0.1:9")
    clean, removed = strip_external_links(source.read_bytes())
    assert sorted(removed) == sorted(["http://127.0.0.1:9/logo.png",
                                      "http://127.0.0.1:9/modele.dotx",
                                      'INCLUDEPICTURE "http://127.0.0.1:9/champ.png" \\d'])
    with zipfile.ZipFile(io.BytesIO(clean)) as zf:
        every = b"".join(zf.read(n) for n in zf.namelist())
    assert b"127.0.0.1" not in every
    docx.Document(io.BytesIO(clean))  # still a document


def test_pdf_conversion_makes_no_request(tmp_path: Path,
                                         serveur: tuple[str, list[str]]) -> None:
    besoin_libreoffice()
    base, requests = serveur
    source = _linked_document(tmp_path / "lettre.docx", base)
    before = source.read_bytes()
    (pdf,) = convert_to_pdf([source], tmp_path / "pdf")
    assert pdf.is_file()
    assert requests == []
    assert source.read_bytes() == before  # the document itself is left as it is


def test_control_without_the_protections_the_image_is_fetched(
        tmp_path: Path, serveur: tuple[str, list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test above guards against does happen: LibreOffice as certidocs ran it before
    (no link stripping, no settings against links) fetches the address."""
    besoin_libreoffice()
    base, requests = serveur
    lib: object = certidocs.libreoffice
    monkeypatch.setattr(lib, "_without_links", lambda sources, _folder: sources)
    registry = certidocs.libreoffice._REGISTRY
    monkeypatch.setattr(lib, "_REGISTRY", registry[:registry.index(
        '<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop '
        'oor:name="BlockUntrustedRefererLinks"')] + "</oor:items>\n")
    convert_to_pdf([_linked_document(tmp_path / "lettre.docx", base)], tmp_path / "pdf")
    assert requests, "LibreOffice did not fetch the linked image even without protections"
