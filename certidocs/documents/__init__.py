"""Word documents of a session: contexts from the model, templates rendered with docxtpl.

``context`` turns model objects into what templates print; ``render`` renders batches of
documents (strict, escaped, all or nothing), merges them for printing and converts them to PDF;
``certificat`` computes certificates' verification codes. Importing this package is cheap: the
heavy libraries are imported by the functions that use them.
"""

from __future__ import annotations

from certidocs.documents.certificat import code_valide, qr_payload, verification_code
from certidocs.documents.context import (
    TYPES,
    CertificatInfo,
    Image,
    TypeDocument,
    concerne,
    contexte_attestation_blocs,
    contexte_certificat,
    contexte_commun,
    contexte_convocation_candidat,
    contexte_convocation_jury,
    contexte_emargement,
    contexte_fiche_resultats,
    contexte_non_recevabilite,
    contexte_notification_resultats,
    contexte_proces_verbal,
    contexte_suivi_dysfonctionnements,
    mentions_manquantes,
    organisme_depuis_config,
    reglages_manquants,
    verifier_candidats_connus,
)
from certidocs.documents.render import (
    BatchResult,
    RenderJob,
    Template,
    default_templates_dir,
    find_template,
    merge,
    render_batch,
    render_document,
    safe_filename,
)

__all__ = [
    "TYPES",
    "BatchResult",
    "CertificatInfo",
    "Image",
    "RenderJob",
    "Template",
    "TypeDocument",
    "code_valide",
    "concerne",
    "contexte_attestation_blocs",
    "contexte_certificat",
    "contexte_commun",
    "contexte_convocation_candidat",
    "contexte_convocation_jury",
    "contexte_emargement",
    "contexte_fiche_resultats",
    "contexte_non_recevabilite",
    "contexte_notification_resultats",
    "contexte_proces_verbal",
    "contexte_suivi_dysfonctionnements",
    "default_templates_dir",
    "find_template",
    "mentions_manquantes",
    "merge",
    "organisme_depuis_config",
    "qr_payload",
    "reglages_manquants",
    "render_batch",
    "render_document",
    "safe_filename",
    "verification_code",
    "verifier_candidats_connus",
]
