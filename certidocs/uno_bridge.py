"""The other end of certidocs.uno_server: run by a Python that has LibreOffice's ``uno`` module
(Debian's python3-uno, or the python LibreOffice ships), never imported by certidocs itself
(certidocs's own interpreter usually cannot import ``uno``).

    python3 uno_bridge.py <pipe name> <seconds to wait for LibreOffice>

It connects to the LibreOffice process started with ``--accept=pipe,name=<pipe name>;urp;``,
then reads one request per line on its standard input, as JSON:
``{"source": "/abs/in.docx", "cible": "/abs/out.pdf", "destinations": true}``, loads the
document hidden, read-only, with no macro run and no link updated, writes its PDF (Writer's
PDF export, images kept at their resolution as with certidocs.libreoffice.WRITER_PDF_OPTIONS;
with ``destinations``, each bookmark becomes a named destination of the PDF) and
closes it. Every answer is one line starting with PREFIX: « pret », « fait », or « erreur »
followed by the reason; anything else on standard output is not ours and is ignored. At the end
of its input it asks LibreOffice to quit.

Standard library and ``uno`` only: this file runs under another interpreter than certidocs.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time

PREFIX = "certidocs-uno:"


def say(word: str, detail: str = "") -> None:
    """One answer line to certidocs."""
    text = f"{PREFIX} {word}" + (f" {detail}" if detail else "")
    sys.stdout.write(text.replace("\n", " ") + "\n")
    sys.stdout.flush()


def main() -> int:
    """Connect, then serve requests until the end of standard input."""
    import uno  # type: ignore[import-not-found]
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    def prop(name: str, value: object) -> object:
        p = PropertyValue()
        p.Name = name
        p.Value = value
        return p

    pipe, wait = sys.argv[1], float(sys.argv[2])
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + wait
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception as exc:  # NoConnectException until LibreOffice listens
            if time.monotonic() > deadline:
                say("erreur", f"LibreOffice n'a pas répondu en {wait:.0f} secondes ({exc})")
                return 1
            time.sleep(0.05)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop",
                                                               context)
    # MacroExecutionMode 0 = NEVER_EXECUTE; UpdateDocMode 0 = NO_UPDATE (links never fetched).
    loading = (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", 0),
               prop("UpdateDocMode", 0))
    say("pret")
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            # As certidocs.libreoffice.WRITER_PDF_OPTIONS: images kept as they are.
            options = [prop("ReduceImageResolution", False)]
            if request.get("destinations"):
                options.append(prop("ExportBookmarksToPDFDestination", True))
            data = uno.Any("[]com.sun.star.beans.PropertyValue", tuple(options))
            document = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(request["source"]), "_blank", 0, loading)
            if document is None:
                say("erreur", "LibreOffice n'a pas pu ouvrir le fichier")
                continue
            try:
                document.storeToURL(uno.systemPathToFileUrl(request["cible"]),
                                    (prop("FilterName", "writer_pdf_Export"),
                                     prop("FilterData", data)))
            finally:
                document.close(True)
        except Exception as exc:  # a UNO exception: the request failed, the bridge goes on
            say("erreur", f"{type(exc).__name__}: {exc}")
            continue
        say("fait")
    with contextlib.suppress(Exception):  # LibreOffice already gone: nothing to stop
        desktop.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
