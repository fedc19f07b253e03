"""The shared register of a certifier and its partner centres: who sees what, enforced by
PostgreSQL (roles and row-level security), and the copy of a SQLite register into it.

The account that creates the schema (the certifier's) owns the tables: it sees and writes
everything and is the only one that declares to the Caisse des Dépôts (the ``flux`` tables
are granted to nobody else). Every centre logs in with its own role, a member of
``certidocs_centre``, recorded in ``centres.role_bd`` against its SIRET. Row-level security
then gives a centre its sessions, passages and certificates (``centre`` = its SIRET), the
people it created or recorded a passage of, and what hangs on its sessions (blocs, seals,
revisions, appeals); nothing else is visible, whatever SQL it sends.

Retake rules need the history of a person across the network: ``certidocs_historique``
(``SECURITY DEFINER``) answers for one candidate key (name, first name and birth date that
the centre holds) with decisions, dates and capitalised blocs only. The journal holds every
centre's rows, so a centre may append to it but not read it: ``certidocs_journal_tete``
gives it the head of the chain, under the write lock it holds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from certidocs.errors import RegistreError
from certidocs.registre.moteur import Moteur, est_postgresql

if TYPE_CHECKING:
    from certidocs.registre import Registre

ROLE_CENTRES = "certidocs_centre"
"""The group role every centre's login role belongs to."""

_VU_PAR_SESSION = ("blocs_capitalises", "scellements", "revisions", "recours")

SECURITE = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE_CENTRES}') THEN
    CREATE ROLE {ROLE_CENTRES} NOLOGIN;
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS centres (
  siret TEXT PRIMARY KEY,
  nom TEXT NOT NULL,
  role_bd TEXT NOT NULL UNIQUE
);
CREATE OR REPLACE FUNCTION certidocs_centre_courant() RETURNS text
  LANGUAGE sql STABLE AS
  $f$ SELECT COALESCE((SELECT siret FROM centres WHERE role_bd = current_user), '') $f$;
CREATE OR REPLACE FUNCTION certidocs_journal_tete() RETURNS TABLE (seq integer, empreinte text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {{schema}} AS
  $f$ SELECT j.seq, j.empreinte FROM journal j ORDER BY j.seq DESC LIMIT 1 $f$;
CREATE OR REPLACE FUNCTION certidocs_candidat_id(p_cle text) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {{schema}} AS
  $f$ SELECT c.id FROM candidats c WHERE c.cle = p_cle $f$;
CREATE OR REPLACE FUNCTION certidocs_historique(p_cle text, p_referentiel text,
                                                p_exclue text)
  RETURNS TABLE (genre text, valeur text, date_session text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {{schema}} AS $f$
  SELECT 'passage', p.decision, p.date_session FROM passages p
    JOIN candidats c ON c.id = p.candidat_id JOIN sessions s ON s.id = p.session_id
    WHERE c.cle = p_cle AND p.referentiel = p_referentiel
      AND (p_exclue IS NULL OR s.cle <> p_exclue)
  UNION ALL
  SELECT 'bloc', b.bloc, NULL FROM blocs_capitalises b
    JOIN candidats c ON c.id = b.candidat_id JOIN sessions s ON s.id = b.session_id
    WHERE c.cle = p_cle AND b.referentiel = p_referentiel
      AND (p_exclue IS NULL OR s.cle <> p_exclue) $f$;
REVOKE ALL ON ALL TABLES IN SCHEMA {{schema}} FROM {ROLE_CENTRES};
GRANT SELECT ON certidocs_schema, centres TO {ROLE_CENTRES};
GRANT INSERT ON journal TO {ROLE_CENTRES};
GRANT SELECT, INSERT, UPDATE ON numerotation TO {ROLE_CENTRES};
GRANT SELECT, INSERT, UPDATE, DELETE ON candidats, sessions, passages,
  certificats, {", ".join(_VU_PAR_SESSION)} TO {ROLE_CENTRES};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {{schema}} TO {ROLE_CENTRES};
GRANT USAGE ON SCHEMA {{schema}} TO {ROLE_CENTRES};
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE passages ENABLE ROW LEVEL SECURITY;
ALTER TABLE certificats ENABLE ROW LEVEL SECURITY;
ALTER TABLE candidats ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS par_centre ON sessions;
CREATE POLICY par_centre ON sessions TO {ROLE_CENTRES}
  USING (centre = certidocs_centre_courant()) WITH CHECK (centre = certidocs_centre_courant());
DROP POLICY IF EXISTS par_centre ON passages;
CREATE POLICY par_centre ON passages TO {ROLE_CENTRES}
  USING (centre = certidocs_centre_courant()) WITH CHECK (centre = certidocs_centre_courant());
DROP POLICY IF EXISTS par_centre ON certificats;
CREATE POLICY par_centre ON certificats TO {ROLE_CENTRES}
  USING (centre = certidocs_centre_courant()) WITH CHECK (centre = certidocs_centre_courant());
DROP POLICY IF EXISTS par_centre ON candidats;
CREATE POLICY par_centre ON candidats TO {ROLE_CENTRES}
  USING (centre = certidocs_centre_courant() OR id IN (SELECT candidat_id FROM passages))
  WITH CHECK (centre = certidocs_centre_courant() OR id IN (SELECT candidat_id FROM passages));
""" + "".join(f"""
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS par_centre ON {t};
CREATE POLICY par_centre ON {t} TO {ROLE_CENTRES}
  USING (session_id IN (SELECT id FROM sessions))
  WITH CHECK (session_id IN (SELECT id FROM sessions));
""" for t in _VU_PAR_SESSION)


def _statements(script: str) -> list[str]:
    """The statements of ``script``: split on ``;`` outside ``$$ … $$`` and ``$f$ … $f$``."""
    out, current, quote = [], "", None
    for piece in re.split(r"(\$f?\$|;)", script):
        if piece in ("$$", "$f$"):
            quote = None if quote == piece else (quote or piece)
        if piece == ";" and quote is None:
            if current.strip():
                out.append(current.strip())
            current = ""
        else:
            current += piece
    if current.strip():
        out.append(current.strip())
    return out


def installer_securite(db: Moteur) -> None:
    """Create (or bring up to date) roles, grants, row-level security policies and server
    functions of the shared register (inside the migration's transaction)."""
    schema = db.execute("SELECT current_schema()").fetchone()[0]
    for statement in _statements(SECURITE.replace("{schema}", schema)):
        db.execute(statement)


def _identifiant(role: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise RegistreError(f"nom de compte « {role} » invalide : lettres minuscules, chiffres "
                            "et « _ » seulement")
    return role


def declarer_centre(reg: Registre, *, siret: str, nom: str, role_bd: str = "",
                    mot_de_passe: str | None = None) -> None:
    """Declare a partner centre of the shared register and its account: a login role member
    of ``certidocs_centre`` (created when ``mot_de_passe`` is given, else expected to exist).
    Only the certifier's account may do it; a SQLite register has no accounts."""
    siret = "".join(siret.split())
    if not re.fullmatch(r"\d{14}", siret):
        raise RegistreError(f"SIRET « {siret} » invalide : 14 chiffres")
    if reg.moteur != "postgresql":
        raise RegistreError("les comptes de centres n'existent que sur un registre partagé "
                            "PostgreSQL ([registre] url)")
    if role_bd:
        role = _identifiant(role_bd)
        exists = reg.db.execute("SELECT 1 FROM pg_roles WHERE rolname = ?",
                                (role,)).fetchone()
        if not exists:
            if mot_de_passe is None:
                raise RegistreError(f"le compte « {role} » n'existe pas sur le serveur : "
                                    "donnez son mot de passe pour le créer")
            reg.db.execute(f"CREATE ROLE {role} LOGIN IN ROLE {ROLE_CENTRES} PASSWORD "
                           + _litteral(mot_de_passe))
        else:
            reg.db.execute(f"GRANT {ROLE_CENTRES} TO {role}")
    reg.db.execute("INSERT INTO centres (siret, nom, role_bd) VALUES (?, ?, ?) "
                   "ON CONFLICT (siret) DO UPDATE SET nom = excluded.nom, "
                   "role_bd = excluded.role_bd", (siret, nom, role_bd or siret))


def _litteral(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def verifier_centre(siret: str, partenaires: list[tuple[str, str | None]]) -> str | None:
    """Why the centre ``siret`` is not among a certification's partners imported from its RNCP
    fiche (``(nom, siret)`` pairs), or None when it is or when none were imported."""
    known = {"".join((s or "").split()) for _, s in partenaires if s}
    if not known or "".join(siret.split()) in known:
        return None
    return (f"le centre {siret} n'est pas parmi les {len(known)} partenaire(s) habilité(s) "
            "que la fiche RNCP liste")


# --- copy of a SQLite register into the shared one ------------------------------------------


ORDRE_COPIE = ("candidats", "sessions", "passages", "blocs_capitalises", "certificats",
               "numerotation", "recours", "flux", "flux_passages", "scellements", "revisions")
"""Tables in an order that satisfies every foreign key."""


def migrer(source: Path, url: str, mot_de_passe: str | None = None,
           centre: str = "") -> dict[str, int]:
    """Copy the SQLite register ``source`` into the shared register at ``url``: every row of
    every table (ids kept when the target is empty), then the journal entry by entry.

    Idempotent: a source already copied (its journal's last hash is in the target's journal)
    copies nothing. The target must be empty or hold this very register; merging two
    registers' ids is refused rather than guessed. ``registre controler`` passes after it.
    Returns how many rows and entries were copied per table.
    """
    from certidocs.registre import Registre, Reglages, reglages_sqlite

    if not est_postgresql(url):
        raise RegistreError(f"« {url} » n'est pas l'adresse d'un registre PostgreSQL "
                            "(postgresql://…)")
    if not source.exists():
        raise RegistreError(f"{source} introuvable : rien à migrer")
    copied: dict[str, int] = {}
    with Registre(source, reglages=reglages_sqlite()) as src:
        problems = src.controler()
        if problems:
            raise RegistreError(f"{source} : le registre ne se contrôle pas ({problems[0]}) ; "
                                "migration refusée")
        seq, head = src.tete()
        with Registre(source, reglages=Reglages(url=url, mot_de_passe=mot_de_passe,
                                                centre=centre)) as dst:
            dst.db.commencer()
            try:
                known = dst.db.execute("SELECT 1 FROM journal WHERE seq = ? AND empreinte = ?",
                                       (seq, head)).fetchone()
                if seq and known:
                    dst.db.annuler()
                    return {}
                if dst.db.execute("SELECT 1 FROM journal LIMIT 1").fetchone():
                    raise RegistreError(
                        f"{dst.db.cible} : le registre partagé contient déjà un autre journal ; "
                        "seule la copie d'un registre dans un registre vide est prise en "
                        "charge (les identifiants des deux registres se recouvriraient)")
                for table in ORDRE_COPIE:
                    copied[table] = _copier_table(src, dst, table)
                copied["journal"] = _copier_table(src, dst, "journal")
                for table in ORDRE_COPIE:
                    if "id" in _colonnes(src, table):
                        dst.db.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
            except BaseException:
                dst.db.annuler()
                raise
            dst.db.valider()
        _amorcer_compteurs(url, mot_de_passe, source)
        if centre:
            _rattacher(url, mot_de_passe, source, centre)
    return copied


def _rattacher(url: str, mot_de_passe: str | None, source: Path, centre: str) -> None:
    """The copied rows of a centre's workspace become that centre's (journaled): its SIRET
    in their ``centre`` column and in front of its session keys, as if written on the
    shared register, so that its account sees them and finds its sessions again."""
    from certidocs.registre import Registre, Reglages

    prefix = f"{centre}:"
    with Registre(source, reglages=Reglages(url=url, mot_de_passe=mot_de_passe)) as reg, \
            reg.transaction("rattachement au centre", f"registre copié du centre {centre}"
                            ) as conn:
        conn.execute("UPDATE sessions SET cle = ? || cle, centre = ? WHERE "
                     "substr(cle, 1, ?) <> ?", (prefix, centre, len(prefix), prefix))
        for table in ("passages", "certificats", "candidats"):
            conn.execute(f"UPDATE {table} SET centre = ? WHERE centre = ''", (centre,))


def _colonnes(reg: Registre, table: str) -> list[str]:
    return [d[0] for d in reg.db.execute(f"SELECT * FROM {table} LIMIT 0").description]


def _copier_table(src: Registre, dst: Registre, table: str) -> int:
    columns = _colonnes(src, table)
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    rows = [tuple(r) for r in src.db.execute(f"SELECT {names} FROM {table} ORDER BY rowid")]
    for row in rows:
        dst.db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", row)
    return len(rows)


def _amorcer_compteurs(url: str, mot_de_passe: str | None, source: Path) -> None:
    """Certificates issued before the counters existed get theirs now (journaled), so that a
    centre's account, which sees only its own certificates, never starts a count below the
    network's."""
    from certidocs.registre import Registre, Reglages

    with Registre(source, reglages=Reglages(url=url, mot_de_passe=mot_de_passe)) as reg:
        missing = reg.db.execute(
            "SELECT k.referentiel, k.annee, MAX(k.rang) FROM certificats k WHERE NOT EXISTS "
            "(SELECT 1 FROM numerotation n WHERE n.referentiel = k.referentiel AND "
            "n.annee = k.annee) GROUP BY k.referentiel, k.annee ORDER BY 1, 2").fetchall()
        if missing:
            with reg.transaction("compteurs de certificats",
                                 "numérotation du réseau amorcée à la migration") as conn:
                for referentiel, annee, rang in missing:
                    conn.execute("INSERT INTO numerotation (cle, referentiel, annee, rang) "
                                 "VALUES (?, ?, ?, ?)",
                                 (f"{referentiel}-{annee}", referentiel, annee, rang))


def resume_migration(copied: dict[str, int]) -> str:
    """One French line per table copied."""
    if not copied:
        return "Rien à copier : ce registre est déjà dans le registre partagé."
    return "\n".join(f"  {table} : {n} ligne(s)" for table, n in copied.items() if n)
