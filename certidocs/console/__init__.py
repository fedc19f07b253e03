"""`certidocs console`: a local web console over a workspace, for coordinators and staff.

Server-rendered pages in French over the same ``certidocs.api`` functions the CLI calls:
the workspace, each session step by step, uploads of the files handed back, results,
documents, the CDC declaration, and a public page ``/verifier`` for the certificates' QR
codes. ``app.create_app`` builds the ASGI app; ``app.serve`` runs it on 127.0.0.1.
"""
