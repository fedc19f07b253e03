"""The coordinator's day in a real browser: Debian's chromium, headless, through Selenium.

One server, one browser, one walk through the demo session: create it, upload session.xlsx,
check it, make the grids and download them, upload the grids the jurors filled, compute the
results, produce and download the documents, verify a certificate as its QR code does; then
the security points (no token, forged form, traversal). A screenshot of each step is written
under the test's temporary folder (``captures/``). Skipped without chromium and
chromium-driver, unless CERTIDOCS_EXIGER_NAVIGATEUR=1 (CI), which makes it fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from consoletools import (
    SESSION,
    TOKEN,
    app_for,
    demo_workspace,
    fill_grids_as_jurors,
    sample_session_xlsx,
)

pytestmark = pytest.mark.navigateur

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
STEP_TIMEOUT = 180


def _tools_or_skip() -> None:
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if not missing:
        return
    message = f"navigateur introuvable ({', '.join(missing)}) : apt-get install chromium " \
              "chromium-driver"
    if os.environ.get("CERTIDOCS_EXIGER_NAVIGATEUR") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serveur(tmp_path: Path) -> Iterator[tuple[str, Any, Path]]:
    """The console over a demo workspace, served by uvicorn on a free local port."""
    _tools_or_skip()
    import uvicorn

    espace = demo_workspace(tmp_path / "espace")
    config = espace / "certidocs.toml"  # the CDC account, so that the flux can be exported
    config.write_text(config.read_text(encoding="utf-8").replace(
        'id_client_emetteur = ""', 'id_client_emetteur = "AB123CDE"').replace(
        'id_contrat = ""', 'id_contrat = "2560080000127J"'), encoding="utf-8")
    ref = espace / "referentiels" / "CPECOM.yaml"
    ref.write_text(ref.read_text(encoding="utf-8").replace("  rncp: null", "  rncp: RNCP34825",
                                                             1), encoding="utf-8")
    app = app_for(espace)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app, espace
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def navigateur(tmp_path: Path) -> Iterator[Any]:
    """Headless chromium with downloads going to ``tmp_path/telechargements``."""
    _tools_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1500", "--lang=fr-FR"):
        options.add_argument(arg)
    downloads = tmp_path / "telechargements"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


class Journee:
    """The browser, the server address and the screenshots folder of one test."""

    def __init__(self, driver: Any, base: str, captures: Path) -> None:
        self.driver, self.base, self.captures = driver, base, captures
        captures.mkdir(exist_ok=True)
        self.n = 0

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)

    def text(self) -> str:
        """The page's text, once its body is there (a click's navigation may still be under
        way on a loaded machine)."""
        from selenium.webdriver.support.ui import WebDriverWait

        body = WebDriverWait(self.driver, 30).until(
            lambda d: d.find_elements("tag name", "body"))[0]
        return str(body.text)

    def shot(self, name: str) -> Path:
        self.n += 1
        path = self.captures / f"{self.n:02d}-{name}.png"
        self.driver.set_window_size(1280, max(900, min(4000, self.driver.execute_script(
            "return document.body.scrollHeight") + 40)))
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.driver.save_screenshot(str(path))
        return path

    def click(self, element_id: str) -> None:
        self.driver.find_element("id", element_id).click()

    def wait_for(self, text: str, timeout: float = STEP_TIMEOUT) -> None:
        """Until the step is over (the page reloads itself meanwhile) and ``text`` shows."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                body = self.text()
                busy = bool(self.driver.find_elements("id", "encours"))
            except Exception:  # the page is reloading under our feet
                time.sleep(0.2)
                continue
            if text in body and not busy:
                return
            time.sleep(0.3)
        raise AssertionError(f"« {text} » n'est pas apparu ; page :\n{self.text()[:3000]}")

    def upload(self, input_id: str, files: list[Path], button: str) -> None:
        self.driver.find_element("id", input_id).send_keys("\n".join(str(f) for f in files))
        self.click(button)


def _wait_file(folder: Path, pattern: str, timeout: float = 60) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found and not list(folder.glob("*.crdownload")):
            size = found[0].stat().st_size
            time.sleep(0.3)  # complete once its size holds still, under load too
            if size and found[0].stat().st_size == size:
                return found[0]
        time.sleep(0.2)
    raise AssertionError(f"téléchargement {pattern} absent de {folder}")


def test_the_coordinators_day(serveur: tuple[str, Any, Path], navigateur: Any,
                              tmp_path: Path) -> None:
    base, _app, espace = serveur
    day = Journee(navigateur, base, tmp_path / "captures")
    downloads = tmp_path / "telechargements"

    day.go(f"/?token={TOKEN}")
    assert "Espace de travail" in day.text() and "CPECOM" in day.text()
    day.shot("espace")

    # create the session, then upload the filled session.xlsx
    day.driver.find_element("name", "nom").send_keys(SESSION)
    from selenium.webdriver.support.ui import Select

    Select(day.driver.find_element("name", "referentiel")).select_by_value("CPECOM")
    day.driver.find_element("css selector", "#creer button").click()
    day.wait_for("Session créée")
    day.shot("session-creee")
    day.click("telecharger-classeur")
    _wait_file(downloads, "session*.xlsx")
    filled = tmp_path / "bureau" / "session.xlsx"
    filled.parent.mkdir()
    shutil.copy2(sample_session_xlsx(), filled)
    day.upload("fichier-classeur", [filled], "bouton-classeur")
    day.wait_for("session.xlsx déposé et vérifié")
    assert "0 erreur(s)" in day.text()
    day.shot("classeur-depose")

    day.click("bouton-verifier")
    day.wait_for("Fait en")
    assert "0 erreur(s)" in day.text()
    day.shot("verification")

    day.click("bouton-grilles")
    day.wait_for("grille(s) créée(s)")
    day.shot("grilles")
    day.click("zip-grilles")
    archive = _wait_file(downloads, "*grilles.zip")
    folder = espace / "sessions" / SESSION
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == sorted(p.name for p in (folder / "grilles").iterdir())

    # the jurors send their grids back: all of them dropped at once
    returned = fill_grids_as_jurors(folder, tmp_path / "retour")
    day.upload("fichiers-grilles", returned, "bouton-depot")
    day.wait_for("rangée : grille de")
    assert day.text().count("rangée : grille de") == len(returned)
    day.shot("grilles-deposees")

    day.click("bouton-resultats")
    day.wait_for("anomalie(s)")
    day.click("voir-resultats")
    rows = day.driver.find_elements("css selector", "#decisions tbody tr")
    assert len(rows) == 12
    decisions = {r.find_element("css selector", ".decision").text for r in rows}
    assert {"Certifié", "Absent"} <= decisions
    day.shot("resultats")

    day.go(f"/session/{SESSION}")
    day.click("bouton-documents")
    day.wait_for("Documents d'après l'examen produits")
    day.shot("documents-produits")
    day.click("voir-documents")
    assert "certificat" in day.text() and "_impression_certificat.docx" in day.text()
    day.shot("documents")
    day.driver.find_element("link text", "_impression_certificat.docx").click()
    _wait_file(downloads, "_impression_certificat*.docx")
    day.go(f"/session/{SESSION}/zip/documents")
    with zipfile.ZipFile(_wait_file(downloads, "*documents.zip")) as zf:
        names = zf.namelist()
    assert any(n.startswith("certificat/") for n in names)
    assert any(n.startswith("proces_verbal/") for n in names)

    # the CDC declaration: export the flux, then record the answer
    day.go(f"/session/{SESSION}")
    day.click("bouton-accrochage")
    day.wait_for("Flux écrit")
    day.driver.find_element("css selector", "#marquer button").click()
    day.wait_for("marqué(s) « accepté »")
    day.shot("accrochage")

    # a certificate checked as its QR code does: same path and query, on this server
    with sqlite3.connect(espace / "registre.sqlite") as conn:
        numero, code = conn.execute(
            "SELECT numero, code_verification FROM certificats ORDER BY numero").fetchone()
    from certidocs.documents.certificat import qr_payload

    qr = qr_payload("https://certificats.exemple.fr/verifier", numero, code)
    day.driver.delete_all_cookies()  # a stranger's phone: no token
    day.driver.get(base + qr.split("exemple.fr", 1)[1])
    answer = day.driver.find_element("id", "reponse").text
    assert f"Certificat {numero} authentique" in answer and "Délivré le" in answer
    assert "né" not in answer  # nothing but the holder's name, the title and the date
    day.shot("verifier-authentique")
    day.go(f"/verifier?numero={numero}&code=AAAA-BBBB-CCCC")
    assert "n'est pas authentique" in day.text()

    # security: no token, forged form, traversal
    day.go("/")
    assert "jeton secret" in day.text()
    day.shot("sans-jeton")
    day.go(f"/?token={TOKEN}")
    day.go(f"/session/{SESSION}")
    day.driver.execute_script(
        "document.querySelector('#verifier input[name=csrf]').value = 'forge';")
    day.click("bouton-verifier")
    day.wait_for("CSRF", 30)
    day.shot("formulaire-forge")
    day.go(f"/session/{SESSION}/fichier/grilles/%2e%2e%2f%2e%2e%2f%2e%2e%2fcertidocs.toml")
    assert "introuvable" in day.text() and "[organisme]" not in day.driver.page_source
