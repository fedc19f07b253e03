"""The console's ASGI app, called in-process: token, CSRF, paths, uploads, pages, steps."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from consoletools import (
    SESSION,
    TOKEN,
    app_for,
    copy_sample,
    demo_workspace,
    fill_grids_as_jurors,
    sample_session_xlsx,
)
from starlette.testclient import TestClient

from certidocs.console.security import RateLimiter, file_in, session_dir

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def espace(tmp_path: Path) -> Path:
    return demo_workspace(tmp_path / "espace")


@pytest.fixture
def client(espace: Path) -> TestClient:
    c = TestClient(app_for(espace), base_url=BASE)
    assert c.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie, follows the redirect
    return c


def csrf(client: TestClient, url: str = "/") -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text)
    assert found, "every page with a form carries the CSRF token"
    return found.group(1)


def run(client: TestClient, etape: str, **data: str) -> None:
    r = client.post(f"/session/{SESSION}/etape/{etape}",
                    data={"csrf": csrf(client, f"/session/{SESSION}"), **data})
    assert r.status_code == 200
    client.app.state.console.jobs.wait(SESSION, 120)  # type: ignore[attr-defined]


# --- access ---------------------------------------------------------------------------------


def test_without_token_every_page_is_refused_but_verifier(espace: Path) -> None:
    c = TestClient(app_for(espace), base_url=BASE)
    for url in ("/", f"/session/{SESSION}", f"/session/{SESSION}/zip/grilles"):
        r = c.get(url)
        assert r.status_code == 403 and "jeton secret" in r.text
    assert c.get("/?token=faux").status_code == 403
    assert c.post("/sessions", data={"nom": "x", "referentiel": "CPECOM"}).status_code == 403
    r = c.get("/verifier")
    assert r.status_code == 200 and "Vérifier un certificat" in r.text
    assert "csrf" not in r.text  # the public page never shows the console's CSRF token


def test_token_in_the_url_sets_an_httponly_strict_cookie_and_is_dropped(espace: Path) -> None:
    c = TestClient(app_for(espace), base_url=BASE, follow_redirects=False)
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert c.get("/").status_code == 200


def test_other_hosts_are_refused_dns_rebinding(client: TestClient) -> None:
    r = client.get("/", headers={"host": "evil.example:8765"})
    assert r.status_code == 403 and "127.0.0.1" in r.text


def test_every_form_refuses_a_missing_or_forged_csrf_token(client: TestClient,
                                                            espace: Path) -> None:
    copy_sample(espace)
    posts = ["/sessions", f"/session/{SESSION}/etape/grilles",
             f"/session/{SESSION}/classeur", f"/session/{SESSION}/grilles",
             f"/session/{SESSION}/accrochage"]
    for route in client.app.routes:  # type: ignore[attr-defined]
        if "POST" in (getattr(route, "methods", None) or ()):
            assert any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", route.path), p)
                       for p in posts), f"{route.path} : formulaire non couvert par ce test"
    for url in posts:
        for data in ({}, {"csrf": "0" * 64}):
            r = client.post(url, data=data)
            assert r.status_code == 403 and "CSRF" in r.text, url
    r = client.post("/sessions", data={"csrf": csrf(client), "nom": "x",
                                       "referentiel": "CPECOM"},
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert not (espace / "sessions" / "x").exists()


def test_no_path_from_a_request_leaves_the_workspace(client: TestClient, espace: Path) -> None:
    folder = copy_sample(espace)
    secret = (espace / ".secret-verification").read_text().strip()
    for url in (f"/session/{SESSION}/fichier/../../certidocs.toml",
                f"/session/{SESSION}/fichier/session.xlsx/../../../.secret-verification",
                f"/session/{SESSION}/fichier/%2e%2e/%2e%2e/certidocs.toml",
                "/session/..%2F..%2Fetc/fichier/session.xlsx",
                "/session/%2e%2e/fichier/certidocs.toml",
                f"/session/{SESSION}/fichier/grilles/%2e%2e/session.xlsx",
                "/accrochage/..%2Fcertidocs.toml"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert secret not in r.text and "[organisme]" not in r.text
    assert client.get(f"/session/{SESSION}/fichier/session.xlsx").status_code == 200
    sessions = espace / "sessions"
    assert session_dir(sessions, SESSION) == folder.resolve()
    for bad in ("..", ".", ".cache", "a/b", "../espace", ""):
        assert session_dir(sessions, bad) is None
    (espace / "sessions" / SESSION / "grilles").mkdir()
    (folder / "grilles" / "lien.xlsx").symlink_to(espace / "certidocs.toml")
    assert file_in(folder, "grilles/lien.xlsx", ("grilles",)) is None
    assert file_in(folder, "certidocs.toml", ("session.xlsx",)) is None


def test_creating_a_session_and_refusing_a_bad_name(client: TestClient, espace: Path) -> None:
    token = csrf(client)
    r = client.post("/sessions", data={"csrf": token, "nom": "../dehors",
                                       "referentiel": "CPECOM"})
    assert "refusé" in r.text and not (espace / "dehors").exists()
    r = client.post("/sessions", data={"csrf": token, "nom": "2027-01",
                                       "referentiel": "CPECOM"})
    assert r.url.path == "/session/2027-01" and "Session créée" in r.text
    assert (espace / "sessions" / "2027-01" / "session.xlsx").is_file()
    r = client.post("/sessions", data={"csrf": token, "nom": "2027-01",
                                       "referentiel": "CPECOM"})
    assert "Erreur : " in r.text  # the CLI's own message: an existing session.xlsx is kept


def test_workspace_page_lists_referentiels_with_points_to_check(client: TestClient,
                                                                 espace: Path) -> None:
    copy_sample(espace)
    page = client.get("/").text
    for code in ("CPECOM", "MKT-ECOM", "MMDC"):
        assert code in page
    assert "point(s)" in page  # the « à vérifier » points of the shipped référentiels
    assert SESSION in page and "préparation" in page


def test_a_failing_step_shows_the_cli_message_and_a_second_click_is_refused(
        client: TestClient, espace: Path) -> None:
    folder = copy_sample(espace)
    (folder / "session.xlsx").write_bytes(b"pas un classeur")
    run(client, "grilles")
    page = client.get(f"/session/{SESSION}").text
    assert "Erreur : " in page and "Traceback" not in page
    console = client.app.state.console  # type: ignore[attr-defined]
    import threading

    gate = threading.Event()
    console.jobs.start(SESSION, "verifier", "Vérification", lambda p: gate.wait(10))
    try:
        r = client.post(f"/session/{SESSION}/etape/grilles", data={"csrf": csrf(client)})
        assert "déjà en cours" in r.text
        assert client.get(f"/session/{SESSION}/etat").json()["en_cours"] is True
    finally:
        gate.set()
        console.jobs.wait(SESSION)


# --- uploads ---------------------------------------------------------------------------------


def _upload(client: TestClient, url: str, files: list[tuple[str, bytes]],
            **data: str) -> str:
    r = client.post(url, data={"csrf": csrf(client, f"/session/{SESSION}"), **data},
                    files=[("fichiers", (n, b, "application/octet-stream")) for n, b in files])
    client.app.state.console.jobs.wait(SESSION, 120)  # type: ignore[attr-defined]
    return r.text if r.status_code != 200 else client.get(f"/session/{SESSION}").text


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return buffer.getvalue()


def test_returned_grids_are_checked_placed_and_never_silently_overwritten(
        client: TestClient, espace: Path, tmp_path: Path) -> None:
    folder = copy_sample(espace)
    run(client, "grilles")
    filled = fill_grids_as_jurors(folder, tmp_path / "retour")
    blank = (folder / "grilles" / filled[0].name).read_bytes()
    page = _upload(client, f"/session/{SESSION}/grilles",
                   [(p.name, p.read_bytes()) for p in filled[:3]])
    assert page.count("rangée : grille de") == 3
    assert (folder / "grilles" / filled[0].name).read_bytes() == filled[0].read_bytes()
    # renamed by a juror: recognised by its content
    page = _upload(client, f"/session/{SESSION}/grilles",
                   [("grille jury Dupont.xlsx", filled[3].read_bytes())])
    assert "rangée : grille de" in page
    assert (folder / "grilles" / filled[3].name).read_bytes() == filled[3].read_bytes()
    # a grid holding other input is in place: refused unless « remplacer » is ticked
    page = _upload(client, f"/session/{SESSION}/grilles", [(filled[0].name, blank)])
    assert "contient une autre saisie" in page
    assert (folder / "grilles" / filled[0].name).read_bytes() == filled[0].read_bytes()
    page = _upload(client, f"/session/{SESSION}/grilles", [(filled[0].name, blank)],
                   remplacer="oui")
    assert "remplacée : grille de 001" in page
    page = _upload(client, f"/session/{SESSION}/grilles",
                   [(filled[0].name, filled[0].read_bytes())], remplacer="oui")
    bad = [("../../evil.xlsx", filled[2].read_bytes()), ("bombe.xlsx", _bomb()),
           ("texte.xlsx", b"bonjour"), ("session.xlsx", sample_session_xlsx().read_bytes())]
    page = _upload(client, f"/session/{SESSION}/grilles", bad)
    assert page.count("refusée : ") == 4
    assert "nom de fichier refusé" in page and "bombe zip" in page
    assert "pas une grille" in page
    assert not (espace / "evil.xlsx").exists() and not (folder / "evil.xlsx").exists()
    assert sorted(p.name for p in (folder / "grilles").iterdir()) == sorted(
        p.name for p in filled)


def test_uploads_are_bounded_in_count(client: TestClient, espace: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from certidocs.console import views

    copy_sample(espace)
    monkeypatch.setattr(views, "MAX_FICHIERS_PAR_ENVOI", 2)
    text = _upload(client, f"/session/{SESSION}/grilles", [(f"{i}.xlsx", b"x") for i in range(3)])
    assert "Envoi refusé" in text or "Trop de fichiers" in text


def test_session_xlsx_upload_replaces_and_keeps_the_previous(client: TestClient,
                                                              espace: Path) -> None:
    token = csrf(client)
    client.post("/sessions", data={"csrf": token, "nom": SESSION, "referentiel": "CPECOM"})
    folder = espace / "sessions" / SESSION
    blank = (folder / "session.xlsx").read_bytes()
    page = _upload(client, f"/session/{SESSION}/classeur", [("texte.xlsx", b"nope")])
    assert "Erreur : " in page and (folder / "session.xlsx").read_bytes() == blank
    page = _upload(client, f"/session/{SESSION}/classeur",
                   [("session.xlsx", sample_session_xlsx().read_bytes())])
    assert "session.xlsx déposé et vérifié" in page and "0 erreur(s)" in page
    assert (folder / "session.xlsx").read_bytes() == sample_session_xlsx().read_bytes()
    assert [p.read_bytes() for p in (folder / ".historique").glob("session-*.xlsx")] == [blank]


# --- /verifier --------------------------------------------------------------------------------


def test_verifier_is_rate_limited(espace: Path) -> None:
    c = TestClient(app_for(espace), base_url=BASE)
    c.app.state.console.limiter = RateLimiter(per_client=3, overall=100)  # type: ignore[attr-defined]
    codes = [c.get("/verifier?numero=X-1&code=ABCD").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Trop de vérifications" in c.get("/verifier?numero=X-1&code=A").text


def test_verifier_unknown_certificate(espace: Path) -> None:
    c = TestClient(app_for(espace), base_url=BASE)
    r = c.get("/verifier?numero=CPECOM-2026-99999&code=AAAA-BBBB-CCCC")
    assert "inconnu" in r.text and "authentique." not in r.text


def test_verifier_says_a_revoked_certificate_is_revoked(espace: Path) -> None:
    """A certificate revoked after a revision: the public page says « révoqué le … »."""
    import datetime as dt

    from certidocs.documents import verification_code
    from certidocs.registre import Registre
    from certidocs.workspace import find_workspace, read_secret

    born, day = dt.date(1990, 4, 3), dt.date(2026, 12, 16)
    with Registre(espace / "registre.sqlite") as reg, reg.transaction("essai") as conn:
        sid = reg.session_id(conn, "sessions/s", "s", "CPECOM", day, day, "Lyon")
        numero, issued = reg.certificat(conn, session_id=sid, nom_naissance="Lefèvre",
                                        prenom="Élodie", date_naissance=born,
                                        referentiel="CPECOM", date_delivrance=day)
        code = verification_code(read_secret(find_workspace(espace)), numero, "Lefèvre",
                                 "Élodie", born, issued)
        reg.enregistrer_code(conn, numero, code)
        (cid,) = conn.execute("SELECT candidat_id FROM certificats").fetchone()
        reg.revoquer(conn, candidat_id=cid, session_id=sid, motif="erreur du jury",
                     date_revocation=dt.date(2026, 12, 20))
    c = TestClient(app_for(espace), base_url=BASE)
    text = c.get(f"/verifier?numero={numero}&code={code}").text
    assert f"Certificat {numero} révoqué le 20/12/2026" in text
    assert "erreur du jury" not in text  # the public page shows no reason
