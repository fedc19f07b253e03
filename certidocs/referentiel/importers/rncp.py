"""Read France Compétences' public export of the RNCP and RS (XML, flux 4.1), fiche by fiche.

The whole export (about 25,000 fiches, hundreds of megabytes, downloaded as a .zip holding one
.xml) is streamed with ``lxml.etree.iterparse``: each ``FICHE`` is read into a plain
:class:`Fiche`, then its element is cleared and dropped, so that memory stays bounded whatever
the export's size (benchmarks/bench_rncp.py measures it). ``--fiche`` stops at the fiche found.

What is read, and why (the tag names are the export's):

- ``NUMERO_FICHE`` with its prefix: ``RNCP35340`` (Répertoire national) and ``RS5000``
  (Répertoire spécifique) are different certifications, never matched on digits alone;
- a fiche's own ``BLOCS_COMPETENCES/BLOC_COMPETENCES`` only: those under
  ``CORRESPONDANCES/CORRESPONDANCE/{SOURCE,DESTINATION}`` are other certifications' blocs
  declared equivalent, not this fiche's;
- what a certificate prints and the rules need: level (``NOMENCLATURE_EUROPE/NIVEAU``, « NIV5 »,
  the European CEC level, equal to the national level since the 2019 framework), NSF codes,
  certifier name and SIRET, ``DATE_EFFET`` and ``DATE_FIN_ENREGISTREMENT``, habilitated
  partners, the jury composition of each access route (``SI_JURY_*``).

The export never holds the evaluation criteria: each bloc is written with ``criteres: []`` and a
note saying they must be copied from the référentiel d'évaluation (or imported together with
the certifier's Word document, see ``combine.py``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from certidocs.errors import ArchiveRefusee, ImportErreur
from certidocs.model import Partenaire
from certidocs.referentiel.importers.common import (
    Draft,
    DraftBloc,
    DraftCompetence,
    fold_accents,
    fold_spaces,
)

CRITERES_ABSENTS = ("critères d'évaluation absents de l'export RNCP : à compléter depuis le "
                    "référentiel d'évaluation")

MAX_NUMEROS_CITES = 10
"""How many fiche numbers an error message quotes at most (the full export has ~25,000)."""

MAX_RESULTATS = 50
"""How many fiches ``referentiel chercher`` lists at most; it says how many more matched."""

MAX_XML_DECOMPRESSE = 4 * 1024 * 1024 * 1024
"""Largest .xml accepted inside an export .zip once inflated (the real one is under 1 Gio)."""

JURYS = {"SI_JURY_FI": "après un parcours de formation sous statut d'élève ou d'étudiant",
         "SI_JURY_CA": "en contrat d'apprentissage",
         "SI_JURY_FC": "après un parcours de formation continue",
         "SI_JURY_CQ": "en contrat de professionnalisation",
         "SI_JURY_CL": "par candidature individuelle",
         "SI_JURY_VAE": "par expérience (VAE)"}
"""The export's jury elements, one per access route, and how a person names the route."""

REPERTOIRES = {"RNCP": "Répertoire national des certifications professionnelles (RNCP)",
               "RS": "Répertoire spécifique (RS)"}

_NUMERO = re.compile(r"^(RNCP|RS)?0*(\d{1,7})$")
_LEVEL = re.compile(r"(\d)")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_HARD_BREAK = re.compile(r"</?(?:li|p|br|ul|ol|div|tr|td)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_BREAK = "\x00"  # an HTML block boundary: always separates two items
# A list mark opens an item when it starts the text or follows a run of at least two spaces
# (the export writes each line break as spaces): « *  », « •  », « o  », « -  », « –  ».
_MARK = re.compile(r"(?:^|\s{2,})([*•●▪○◦o\-–])\s+(?=\S)")
_RUN = re.compile(r"\s{2,}")
_TOP_MARKS = "*•●▪"
_SUB_MARKS = "o○◦"


@dataclass(frozen=True)
class BlocOfficiel:
    """One bloc of a fiche as the export gives it. ``competences`` are (level, text) items:
    level 0 a compétence, level 1 an item listed under the previous one."""

    code: str
    intitule: str
    competences: tuple[tuple[int, str], ...] = ()
    modalites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fiche:
    """One fiche of the export, read into plain values (dates already parsed).

    ``repertoire`` is ``"RNCP"`` or ``"RS"``, the prefix of ``numero``. ``actif`` is the export's
    ``ACTIF`` (None when absent). ``anomalies`` lists values that could not be read (a date
    that is not JJ/MM/AAAA…), in French, for the import's notes.
    """

    numero: str
    repertoire: str
    intitule: str = ""
    etat: str = ""
    actif: bool | None = None
    niveau: int | None = None
    niveau_code: str = ""
    codes_nsf: tuple[str, ...] = ()
    certificateurs: tuple[tuple[str, str | None], ...] = ()
    partenaires: tuple[Partenaire, ...] = ()
    composition_jury: tuple[str, ...] = ()
    date_effet: dt.date | None = None
    date_fin_enregistrement: dt.date | None = None
    blocs: tuple[BlocOfficiel, ...] = ()
    capacites_attestees: str = ""
    nouvelles_certifications: tuple[str, ...] = ()
    version_flux: str = ""
    anomalies: tuple[str, ...] = field(default=())

    @property
    def nature(self) -> str:
        """What the fiche is, in French: « fiche RNCP » or « fiche RS (Répertoire spécifique) »."""
        return "fiche RS (Répertoire spécifique)" if self.repertoire == "RS" else "fiche RNCP"


@dataclass(frozen=True)
class Recherche:
    """What ``chercher`` found: the first fiches matching (at most MAX_RESULTATS), how many
    matched in all, and how many fiches the export holds."""

    fiches: tuple[Fiche, ...]
    trouvees: int
    lues: int


def numero_fiche(texte: str) -> str | None:
    """The canonical fiche number of ``texte`` (« rncp 035340 » → « RNCP35340 », « RS5000 »),
    or None when it is not one. Bare digits mean an RNCP fiche, as France Compétences writes
    them on the RNCP site; an RS fiche must be written with its prefix."""
    match = _NUMERO.match(re.sub(r"\s+", "", texte or "").upper())
    if not match:
        return None
    return f"{match.group(1) or 'RNCP'}{int(match.group(2))}"


def fr_date(day: dt.date | None) -> str:
    """``day`` as JJ/MM/AAAA, the way every message and YAML file of certidocs writes dates."""
    return day.strftime("%d/%m/%Y") if day else ""


# --- Reading the export ------------------------------------------------------------------------


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    """The export's XML as a binary stream: the file itself, or the one .xml of a .zip."""
    if not path.exists():
        raise ImportErreur(f"{path} : fichier introuvable")
    if path.is_dir():
        raise ImportErreur(f"{path} : c'est un dossier ; indiquez l'export RNCP (.zip ou .xml)")
    try:
        if not zipfile.is_zipfile(path):
            with path.open("rb") as handle:
                yield handle
            return
        from certidocs.zipcheck import check_archive

        with zipfile.ZipFile(path) as zf:
            try:
                check_archive(zf, max_total=MAX_XML_DECOMPRESSE)
            except ArchiveRefusee as exc:
                raise ImportErreur(f"{path} : {exc}") from None
            members = [i for i in zf.infolist() if i.filename.lower().endswith(".xml")]
            if len(members) != 1:
                found = ", ".join(i.filename for i in members[:MAX_NUMEROS_CITES]) or "aucun"
                raise ImportErreur(f"{path} : l'archive doit contenir un seul fichier .xml "
                                   f"(l'export de France Compétences) ; elle en contient "
                                   f"{len(members)} ({found})")
            with zf.open(members[0]) as handle:
                yield handle
    except OSError as exc:
        raise ImportErreur(f"{path} : lecture impossible ({exc.strerror or exc})") from None
    except zipfile.BadZipFile:
        raise ImportErreur(f"{path} : archive .zip abîmée ; téléchargez l'export de "
                           "nouveau") from None


def _local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def iter_fiches(path: Path, *, complet: bool = True) -> Iterator[Fiche]:
    """Every fiche of the export ``path`` (.xml, or .zip holding it), in file order.

    Streams: one fiche is in memory at a time. ``complet=False`` reads only number, title,
    level, state and dates (what ``chercher`` shows), which is faster. ImportErreur, in French
    with the line, when the file is not an RNCP export or its XML is broken.
    """
    for element, version in _elements(path):
        yield _fiche(element, version, complet)


def _elements(path: Path) -> Iterator[tuple[Any, str]]:
    """Each ``FICHE`` element of the export with the flux version, cleared once the caller
    moves on: whoever needs a value reads it before asking for the next fiche."""
    from lxml import etree

    with _open(path) as stream:
        # No entities, no DTD, no network: an XML file may try to read other files through them.
        # Only the two tags read raise events: the millions of others cost nothing here.
        events = etree.iterparse(stream, events=("end",), tag=("{*}FICHE", "{*}VERSION_FLUX"),
                                 resolve_entities=False, no_network=True, load_dtd=False,
                                 remove_comments=True, huge_tree=True)
        version = ""
        try:
            for _, element in events:
                parent = element.getparent()
                if parent is None or parent.getparent() is not None:
                    continue  # not a child of the root: some other element's FICHE
                if _local(parent.tag) != "FICHES":
                    raise ImportErreur(_not_export(path, parent.tag))
                if _local(element.tag) == "VERSION_FLUX":
                    version = (element.text or "").strip()
                else:
                    if "}" in element.tag:  # a namespaced export: the tag names are what count
                        for sub in element.iter():
                            if isinstance(sub.tag, str):
                                sub.tag = _local(sub.tag)
                    yield element, version
                # Drop what was read: the element and the siblings before it.
                element.clear()
                while element.getprevious() is not None:
                    del parent[0]
            root = events.root
        except etree.XMLSyntaxError as exc:
            raise ImportErreur(_syntax(path, exc)) from None
        if root is None or _local(root.tag) != "FICHES":
            raise ImportErreur(_not_export(path, None if root is None else root.tag))


def _not_export(path: Path, tag: object) -> str:
    name = _local(tag) if tag is not None else "?"
    return (f"{path} : ce n'est pas un export RNCP de France Compétences (balise racine "
            f"« {name} », attendu « FICHES » contenant des « FICHE »)")


def _syntax(path: Path, exc: Any) -> str:
    where = f"ligne {exc.lineno}" if getattr(exc, "lineno", None) else "début du fichier"
    if "encoding" in str(exc).lower():
        return (f"{path} : {where} : caractère hors UTF-8 alors que le fichier ne déclare pas "
                "d'autre encodage (export en Latin-1 ou Windows-1252 ?) ; enregistrez-le en "
                "UTF-8, ou ajoutez en première ligne <?xml version=\"1.0\" "
                "encoding=\"ISO-8859-1\"?>")
    return (f"{path} : XML illisible ({where} : balise non fermée, caractère interdit ou "
            "fichier tronqué) ; ce n'est pas un export RNCP valide")


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return fold_spaces(found.text or "") if found is not None and found.text else ""


def _date(node: Any, tag: str, anomalies: list[str]) -> dt.date | None:
    raw = _text(node, tag)
    if not raw:
        return None
    match = _DATE.match(raw)
    try:
        if match:
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return dt.date.fromisoformat(raw)
    except ValueError:
        anomalies.append(f"{tag} « {raw} » n'est pas une date (JJ/MM/AAAA attendu)")
        return None


def _fiche(node: Any, version: str, complet: bool) -> Fiche:
    raw_numero = _text(node, "NUMERO_FICHE")
    numero = numero_fiche(raw_numero) or raw_numero.upper()
    repertoire = "RS" if numero.startswith("RS") else "RNCP"
    anomalies: list[str] = []
    niveau_code = _text(node, "NOMENCLATURE_EUROPE/NIVEAU")
    level = _LEVEL.search(niveau_code)
    niveau = int(level.group(1)) if level and 1 <= int(level.group(1)) <= 8 else None
    if niveau_code and niveau is None:
        anomalies.append(f"niveau « {niveau_code} » non reconnu (NIV1 à NIV8 attendu)")
    actif = _text(node, "ACTIF")
    base = {
        "numero": numero, "repertoire": repertoire, "intitule": _text(node, "INTITULE"),
        "etat": _text(node, "ETAT_FICHE"),
        "actif": None if not actif else actif.lower() == "oui",
        "niveau": niveau, "niveau_code": niveau_code,
        "date_effet": _date(node, "DATE_EFFET", anomalies),
        "date_fin_enregistrement": _date(node, "DATE_FIN_ENREGISTREMENT", anomalies),
        "version_flux": version,
    }
    if not complet:
        return Fiche(**base)  # type: ignore[arg-type]
    certificateurs = tuple((_text(c, "NOM_CERTIFICATEUR"), _text(c, "SIRET_CERTIFICATEUR") or None)
                           for c in node.findall("CERTIFICATEURS/CERTIFICATEUR")
                           if _text(c, "NOM_CERTIFICATEUR"))
    partenaires = tuple(Partenaire(_text(p, "NOM_PARTENAIRE"), _text(p, "SIRET_PARTENAIRE") or None,
                                   _text(p, "HABILITATION_PARTENAIRE") or None)
                        for p in node.findall("PARTENAIRES/PARTENAIRE")
                        if _text(p, "NOM_PARTENAIRE")
                        and _text(p, "ETAT_HABILITATION").lower() not in {"inactif", "retiré"})
    jury = []
    for tag, route in JURYS.items():
        element = node.find(tag)
        if element is not None and _text(element, "ACTIF").lower() == "oui" \
                and _text(element, "COMPOSITION"):
            jury.append(f"Accès {route} : {_text(element, 'COMPOSITION')}")
    blocs = tuple(_bloc(b) for b in node.findall("BLOCS_COMPETENCES/BLOC_COMPETENCES"))
    return Fiche(
        **base,  # type: ignore[arg-type]
        codes_nsf=tuple(c for c in (_text(n, "CODE") for n in node.findall("CODES_NSF/NSF")) if c),
        certificateurs=certificateurs, partenaires=partenaires,
        composition_jury=_unique(jury),
        blocs=blocs, capacites_attestees=node.findtext("CAPACITES_ATTESTEES") or "",
        nouvelles_certifications=tuple(
            t for t in (_text(n, "ID_FICHE_NOUVELLE_CERTIFICATION")
                        for n in node.findall("NOUVELLES_CERTIFICATIONS/NOUVELLE_CERTIFICATION"))
            if t),
        anomalies=tuple(anomalies))


def _unique(texts: list[str]) -> tuple[str, ...]:
    """Routes with the same jury text are written once, their routes joined."""
    by_text: dict[str, list[str]] = {}
    for line in texts:
        route, _, text = line.partition(" : ")
        by_text.setdefault(text, []).append(route.removeprefix("Accès "))
    if len(by_text) == 1 and len(texts) > 1:
        return (next(iter(by_text)),)
    return tuple(f"Accès {', '.join(routes)} : {text}" for text, routes in by_text.items())


def _bloc(node: Any) -> BlocOfficiel:
    modalites = _TAG.sub("   ", node.findtext("MODALITES_EVALUATION") or "")
    return BlocOfficiel(
        code=re.sub(r"[^A-Za-z0-9._-]", "", _text(node, "CODE"))[:32],
        intitule=_text(node, "LIBELLE"),
        competences=tuple(split_competences(node.findtext("LISTE_COMPETENCES") or "")),
        modalites=tuple(fold_spaces(p) for p in re.split(r"\s{3,}", html.unescape(modalites))
                        if p.strip()))


def split_competences(raw: str) -> list[tuple[int, str]]:
    """The items of a ``LISTE_COMPETENCES`` text, as (level, text), level 0 or 1.

    The export turns each line break into a run of spaces, so the layouts met are:
    « - A  - B » (items after a dash), « * A   o A1   o A2 » (two levels), « A  B » (two
    spaces or more, no mark) and items wrapped by runs of spaces inside them; HTML lists
    (``<li>``) when the fiche kept the RNCP site's markup. In an unmarked list a piece that
    starts with a lower-case letter continues the previous item (a wrapped line), so that a
    sentence is never cut in two. A heading before the first mark that ends with « : » (« Le
    titulaire est capable de : ») is not a compétence.
    """
    text = html.unescape(_TAG.sub("   ", _HARD_BREAK.sub(_BREAK, raw)))
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\t", "   ")
    out: list[tuple[int, str]] = []
    for chunk in text.split(_BREAK):
        out += _split_chunk(chunk)
    return [(level, t) for level, t in out if t]


def _split_chunk(chunk: str) -> list[tuple[int, str]]:
    marks = list(_MARK.finditer(chunk))
    if not marks:
        return _unmarked(chunk)
    out: list[tuple[int, str]] = []
    head = fold_spaces(chunk[:marks[0].start()])
    if head and not head.endswith(":"):
        out += _unmarked(chunk[:marks[0].start()])
    used = {m.group(1) for m in marks}
    has_top = bool(used & set(_TOP_MARKS))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(chunk)
        item = fold_spaces(chunk[mark.end():end])
        symbol = mark.group(1)
        level = 0 if symbol in _TOP_MARKS or (symbol in "-–" and not has_top) else 1
        if level == 1 and not out:
            level = 0
        out.append((level, item))
    return out


def _unmarked(chunk: str) -> list[tuple[int, str]]:
    items: list[str] = []
    for piece in _RUN.split(chunk):
        piece = fold_spaces(piece)
        if not piece:
            continue
        if items and piece[0].isalpha() and piece[0].islower():
            items[-1] = f"{items[-1]} {piece}"
        else:
            items.append(piece)
    return [(0, i) for i in items]


# --- Choosing a fiche --------------------------------------------------------------------------


def trouver_fiche(path: Path, fiche: str | None) -> Fiche:
    """The fiche ``fiche`` of the export (its number with prefix: RNCP35340 or RS5000), or the
    only fiche when ``fiche`` is None.

    Stops reading at the fiche found. ImportErreur when it is absent (saying whether a fiche
    with the same digits but the other répertoire is there), or when the export holds several
    fiches and none was chosen (quoting at most MAX_NUMEROS_CITES numbers).
    """
    if fiche is None:
        first: Fiche | None = None
        seen: list[str] = []
        for found in iter_fiches(path):
            if first is None:
                first = found
            seen.append(found.numero)
            if len(seen) > MAX_NUMEROS_CITES:
                break
        if first is None:
            raise ImportErreur(f"{path} : l'export ne contient aucune FICHE")
        if len(seen) > 1:
            listed = ", ".join(seen[:MAX_NUMEROS_CITES])
            many = (f"plus de {MAX_NUMEROS_CITES} fiches ({listed}, …)"
                    if len(seen) > MAX_NUMEROS_CITES else f"{len(seen)} fiches ({listed})")
            raise ImportErreur(f"{path} contient {many} : choisissez-"
                               f"en une avec --fiche, par exemple --fiche {seen[0]} ; pour trouver "
                               f"un numéro : certidocs referentiel chercher TEXTE {path}")
        return first
    wanted = numero_fiche(fiche)
    if wanted is None:
        raise ImportErreur(f"--fiche « {fiche} » : numéro de fiche invalide (RNCP35340 pour une "
                           "fiche RNCP, RS5000 pour une fiche du Répertoire spécifique)")
    digits = re.sub(r"\D", "", wanted)
    cousin: str | None = None
    quoted: list[str] = []
    count = 0
    for element, version in _elements(path):
        count += 1
        raw = _text(element, "NUMERO_FICHE")
        numero = numero_fiche(raw) or raw.upper()
        if numero == wanted:
            return _fiche(element, version, True)  # only the fiche asked for is read whole
        if re.sub(r"\D", "", numero) == digits:
            cousin = numero
        if len(quoted) < MAX_NUMEROS_CITES:
            quoted.append(numero)
    present = (f"fiches présentes : {', '.join(quoted)}" if count <= MAX_NUMEROS_CITES
               else f"{count} fiches lues")
    hint = ""
    if cousin:
        other = "du Répertoire spécifique" if cousin.startswith("RS") else "du RNCP"
        hint = (f" ; il contient {cousin}, une autre certification ({other}) : les numéros RNCP "
                "et RS ne se confondent pas")
    raise ImportErreur(f"{path} : la fiche {wanted} n'est pas dans ce fichier ({present}){hint} "
                       f"; pour trouver un numéro : certidocs referentiel chercher TEXTE {path}")


def chercher(path: Path, texte: str) -> Recherche:
    """The fiches whose number or title holds every word of ``texte`` (accents and case
    ignored), in export order; at most MAX_RESULTATS kept, all counted."""
    words = fold_accents(texte).split()
    if not words:
        raise ImportErreur("texte à chercher vide : donnez un mot de l'intitulé ou un numéro")
    kept: list[Fiche] = []
    matched = read = 0
    for element, version in _elements(path):
        read += 1
        haystack = fold_accents(f"{_text(element, 'NUMERO_FICHE')} {_text(element, 'INTITULE')}")
        if all(w in haystack for w in words):
            matched += 1
            if len(kept) < MAX_RESULTATS:
                kept.append(_fiche(element, version, False))
    return Recherche(tuple(kept), matched, read)


# --- The draft référentiel ---------------------------------------------------------------------


def read_rncp(path: Path, fiche: str | None) -> Draft:
    """The draft référentiel of one fiche; ``fiche`` is needed when the export holds several.

    ImportErreur when the fiche has no bloc (an RS fiche, or an RNCP fiche registered before
    blocs existed): the message says what the fiche is and how to import it with the
    certifier's own référentiel instead.
    """
    found = trouver_fiche(path, fiche)
    if not found.blocs:
        raise ImportErreur(sans_blocs(found, path))
    draft = certification_draft(found, path)
    for rank, official in enumerate(found.blocs, start=1):
        draft.blocs.append(_draft_bloc(draft, official, found.numero, rank))
    return draft


def sans_blocs(fiche: Fiche, path: Path) -> str:
    """Why a fiche without blocs cannot be imported alone, and what to do instead."""
    if fiche.repertoire == "RS":
        what = (f"{fiche.numero} est une fiche du Répertoire spécifique (RS), pas du RNCP : elle "
                "décrit des capacités attestées, sans blocs de compétences")
    else:
        what = (f"{fiche.numero} est une fiche RNCP sans blocs de compétences (fiche enregistrée "
                "avant leur obligation, ou incomplète)")
    return (f"{path} : {what} ; importez le référentiel du certificateur (Word ou texte) avec "
            f"« certidocs referentiel importer REFERENTIEL.docx --export-rncp {path.name} "
            f"--fiche {fiche.numero} » pour y reprendre l'identité et les dates de la fiche")


def certification_draft(fiche: Fiche, path: Path) -> Draft:
    """A draft holding the fiche's identity (no bloc yet), with its notes."""
    certifiers = [nom for nom, _ in fiche.certificateurs]
    sirets = [s for _, s in fiche.certificateurs if s]
    cert: dict[str, object] = {
        "code": fiche.numero,
        "rncp": fiche.numero,
        "intitule": fiche.intitule or f"Intitulé à compléter ({fiche.numero})",
        "niveau": fiche.niveau,
        "niveau_europeen": fiche.niveau,
        "nsf": fiche.codes_nsf[0] if fiche.codes_nsf else None,
        "codes_nsf": list(fiche.codes_nsf),
        "certificateur": " ; ".join(certifiers) if certifiers else None,
        "siret_certificateur": sirets[0] if len(sirets) == 1 else None,
        "date_effet": fr_date(fiche.date_effet) or None,
        "date_fin_enregistrement": fr_date(fiche.date_fin_enregistrement) or None,
        "partenaires": [{"nom": p.nom, "siret": p.siret, "habilitation": p.habilitation}
                        for p in fiche.partenaires],
        "composition_jury": list(fiche.composition_jury),
        "source": f"{path.name} (fiche {fiche.numero})",
    }
    for key in ("codes_nsf", "partenaires", "composition_jury"):
        if not cert[key]:
            del cert[key]
    draft = Draft(cert, genre=f"export de France Compétences, {fiche.nature}")
    if fiche.version_flux and fiche.version_flux != "4.1":
        draft.note("certification", f"Export en version {fiche.version_flux} du flux (lu comme "
                                    "la version 4.1) : vérifiez chaque valeur.")
    if not fiche.intitule:
        draft.note("certification.intitule", "La fiche n'a pas d'INTITULE : à compléter.")
    if len(fiche.codes_nsf) > 1:
        draft.note("certification.nsf", f"La fiche a plusieurs codes NSF "
                                        f"({', '.join(fiche.codes_nsf)}) : le premier est celui "
                                        "imprimé ; tous sont dans codes_nsf.")
    if len(certifiers) > 1:
        draft.note("certification.certificateur", "La fiche a plusieurs certificateurs : noms "
                                                  "séparés par « ; », à vérifier (le SIRET "
                                                  "n'est pas repris).")
    for anomalie in fiche.anomalies:
        draft.note("certification", f"Valeur illisible dans l'export : {anomalie}.")
    if fiche.actif is False or fiche.etat.lower() not in {"", "publiée", "publiee"}:
        draft.note("certification.date_fin_enregistrement",
                   f"La fiche n'est plus active dans l'export (état « {fiche.etat or '?'} », "
                   f"actif : {'non' if fiche.actif is False else 'oui'}) : aucun certificat "
                   "ne peut être délivré au titre d'un enregistrement échu.")
    return draft


def _draft_bloc(draft: Draft, official: BlocOfficiel, numero: str, rank: int) -> DraftBloc:
    bloc = DraftBloc(official.code or f"{numero}BC{rank:02d}", official.intitule or f"Bloc {rank}",
                     criteres_absents=True)
    if not official.code:
        draft.note(bloc, "Bloc sans CODE dans l'export : code généré d'après son rang.", ".code")
    if not official.intitule:
        draft.note(bloc, "Bloc sans LIBELLE dans l'export : intitulé à compléter.", ".intitule")
    two_levels = any(level == 1 for level, _ in official.competences)
    top = sub = 0
    for level, text in official.competences:
        if level == 0:
            top, sub = top + 1, 0
            comp_code = f"{bloc.code}-C{top}"
        else:
            sub += 1
            comp_code = f"{bloc.code}-C{max(top, 1)}.{sub}"
        bloc.competences.append(DraftCompetence(None, text, code=comp_code))
    if not bloc.competences:
        draft.note(bloc, "LISTE_COMPETENCES vide dans l'export : compétences à compléter.",
                   ".competences")
    else:
        how = ("sur deux niveaux (« * » puis « o ») : chaque ligne est une compétence, les "
               "lignes « o » codées sous la leur (C1.1, C1.2…)" if two_levels else
               "une compétence par ligne")
        draft.note(bloc, f"Compétences découpées dans le texte libre de l'export, {how} ; "
                         "codes générés : à vérifier.", ".competences")
    bloc.modalites = list(official.modalites)
    draft.note(bloc, CRITERES_ABSENTS, ".criteres")
    return bloc
