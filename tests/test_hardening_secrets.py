"""Hardening — secrets: the grids' password and the workspace's verification secret never
appear in a generated file or in anything a command prints.

A workspace made by `certidocs init` goes through the whole chain: grids, results, `lancer`,
the register's search and export, the Caisse des Dépôts flux and its marking. Then every file
the chain wrote — and every part of every zip among them (.xlsx are deflated: a plain byte
search would miss text inside) — and every command's output is searched for the password (as
UTF-8 and as the UTF-16 Excel hashes) and for the secret (hex, raw bytes, base64). Only the
three files meant to hold them may: certidocs.toml, .secret-verification, registre.sqlite.
"""

from __future__ import annotations

import base64
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sessiondata import CANDIDATS, make_session

from certidocs.cli import main
from certidocs.grid.writer import grid_filename
from certidocs.registre import Registre
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import SECRET_NAME, find_workspace

PASSWORD = "Sesame-Tres-Secret-2026"
KEEPERS = {"certidocs.toml", SECRET_NAME, "registre.sqlite", "registre.sqlite-journal"}
IDENTITES = [
    {"Sexe": "F", "Code INSEE de la commune de naissance": "44109"},
    {"Sexe": "M", "Pays de naissance": "Sénégal"},
    {"Sexe": "F", "Code INSEE de la commune de naissance": "69123", "Lieu de naissance": "Lyon"},
]


def _patterns(password: str, secret_hex: str) -> dict[str, bytes]:
    raw = bytes.fromhex(secret_hex)
    return {
        "mot de passe (UTF-8)": password.encode("utf-8"),
        "mot de passe (UTF-16)": password.encode("utf-16-le"),
        "secret (hex)": secret_hex.encode("ascii"),
        "secret (HEX)": secret_hex.upper().encode("ascii"),
        "secret (octets)": raw,
        "secret (base64)": base64.b64encode(raw).rstrip(b"="),
        "secret (base64 url)": base64.urlsafe_b64encode(raw).rstrip(b"="),
    }


def _leaks(root: Path, patterns: dict[str, bytes]) -> list[str]:
    """Where any pattern shows up in a file (or a zip part) that is not meant to hold it."""
    found = []
    scanned = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name in KEEPERS:
            continue
        blobs = {str(path.relative_to(root)): path.read_bytes()}
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                blobs.update({f"{path.relative_to(root)}!{n}": zf.read(n) for n in zf.namelist()})
        for where, blob in blobs.items():
            scanned += 1
            found += [f"{where} : {what}" for what, needle in patterns.items() if needle in blob]
    assert scanned > 20, "trop peu de fichiers examinés : la chaîne n'a pas tourné"
    return found


class _Chain:
    """Runs commands in a workspace and keeps everything they printed."""

    def __init__(self, runner: CliRunner) -> None:
        self.runner = runner
        self.printed: list[str] = []

    def __call__(self, *args: str, codes: tuple[int, ...] = (0,)) -> Result:
        result = self.runner.invoke(main, list(args))
        self.printed.append(f"$ certidocs {' '.join(args)}\n{result.output}{result.stderr}")
        assert result.exit_code in codes, self.printed[-1]
        return result


def _run_chain(tmp_path: Path, cli_runner: CliRunner, configured: bool) -> tuple[Path, _Chain]:
    chain = _Chain(cli_runner)
    chain("init", "espace")
    root = tmp_path / "espace"
    toml = (root / "certidocs.toml").read_text(encoding="utf-8")
    if configured:
        toml = toml.replace('mot_de_passe = ""', f'mot_de_passe = "{PASSWORD}"')
    toml = toml.replace('id_client_emetteur = ""', 'id_client_emetteur = "AB123CDE"')
    toml = toml.replace('id_contrat = ""', 'id_contrat = "2560080000127J"')
    (root / "certidocs.toml").write_text(toml, encoding="utf-8")
    ref = root / "referentiels" / "CPECOM.yaml"
    ref.write_text(ref.read_text(encoding="utf-8").replace("rncp: null", "rncp: RNCP34825", 1),
                   encoding="utf-8")
    rows = [{**c, **extra} for c, extra in zip(CANDIDATS, IDENTITES, strict=True)]
    folder = make_session(root / "sessions" / "s1", candidats=rows)
    session = "espace/sessions/s1"
    chain("session", "verifier", session)
    chain("grilles", session)
    chain("lancer", session)
    opened = open_session(folder, find_workspace(folder))
    for c in opened.lecture.session.candidats:
        blocs = c.blocs(opened.referentiel)
        fill_grid(folder / "grilles" / grid_filename(c), opened.referentiel, blocs,
                  simulated_evaluations(opened.referentiel, blocs, {"tous": 0.9}, c.numero))
    chain("resultats", session)
    chain("resultats", session, "--format", "json")
    chain("lancer", session)
    # Certificates as `certidocs documents` numbers them, so that there is a flux to write.
    with Registre(root / "registre.sqlite") as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, "sessions/s1", "s1", "CPECOM", None, None, "Lyon")
        for c in opened.lecture.session.candidats:
            if c.numero in ("001", "003"):
                reg.certificat(conn, session_id=sid, nom_naissance=c.nom_naissance,
                               prenom=c.prenom, date_naissance=c.date_naissance,
                               referentiel="CPECOM", date_delivrance=dt.date(2026, 12, 18))
    chain("registre", "candidat", "Lefèvre", "--espace", "espace")
    chain("registre", "exporter", "-o", "espace/export-registre.xlsx", "--espace", "espace")
    flux = chain("accrochage", "exporter", "--session", session, "--espace", "espace")
    assert "Flux écrit" in flux.output, flux.output
    written = next((root / "accrochage").glob("*.xml"))
    chain("accrochage", "marquer", str(written), "--acceptes", "--espace", "espace")
    return root, chain


@pytest.mark.parametrize("configured", [True, False], ids=["mot-de-passe-regle",
                                                           "mot-de-passe-tire"])
def test_secrets_never_leave_their_files(tmp_path: Path, cli_runner: CliRunner,
                                         configured: bool) -> None:
    """The password set in certidocs.toml, or the one drawn and kept in the register, and the
    verification secret: in no generated file, in no command's output."""
    root, chain = _run_chain(tmp_path, cli_runner, configured)
    with Registre(root / "registre.sqlite") as reg:
        kept = reg.conn.execute("SELECT mot_de_passe_grilles FROM sessions").fetchone()[0]
    password = PASSWORD if configured else kept
    assert password and (configured or kept != PASSWORD)
    secret = (root / SECRET_NAME).read_text(encoding="ascii").strip()
    assert len(secret) == 64
    patterns = _patterns(password, secret)
    assert _leaks(root, patterns) == []
    printed = "\n".join(chain.printed).encode("utf-8")
    assert [what for what, needle in patterns.items() if needle in printed] == []
    # The grids are protected all the same: by the password's salted hash.
    grid = root / "sessions" / "s1" / "grilles" / "001_LEFEVRE_Elodie.xlsx"
    with zipfile.ZipFile(grid) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml").decode("utf-8")
    assert 'algorithmName="SHA-512"' in sheet and "hashValue=" in sheet
    # And the search does find a secret hidden in a deflated part, were there one.
    with zipfile.ZipFile(root / "piege.xlsx", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", f"<t>{secret}</t>")
    assert _leaks(root, patterns) == ["piege.xlsx!xl/sharedStrings.xml : secret (hex)"]


def test_register_export_leaves_the_password_out(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The register keeps the drawn password (it must, to protect later grids alike); its
    export for office staff has no column for it."""
    (tmp_path / "certidocs.toml").write_text("", encoding="utf-8")
    ensure_keys(tmp_path)
    make_session(tmp_path / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    with Registre(tmp_path / "registre.sqlite") as reg:
        kept = reg.conn.execute("SELECT mot_de_passe_grilles FROM sessions").fetchone()[0]
        tables = reg.tables()
    assert kept
    assert all("mot_de_passe" not in " ".join(cols).lower() and
               kept not in repr(rows) for cols, rows in tables.values())
    result = cli_runner.invoke(main, ["registre", "exporter", "-o", "r.xlsx"])
    assert result.exit_code == 0
    with zipfile.ZipFile(tmp_path / "r.xlsx") as zf:
        assert all(kept.encode() not in zf.read(n) for n in zf.namelist())
