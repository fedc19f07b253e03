"""Countries of birth as the Caisse des Dépôts expects them: INSEE country codes.

A person born abroad is declared with the INSEE code ``99`` + the country's three-digit code
(``99134`` for Spain) in place of a commune code, and the three digits alone as
``codePaysNaissance``. Office staff type a country name or the code in session.xlsx; this module
turns either into the code. The table holds the countries of the INSEE « code officiel
géographique » still in use; a code that is not in it is still accepted when typed as digits.
"""

from __future__ import annotations

import re
import unicodedata

FRANCE = "100"

# Three-digit INSEE code → the name as printed (French). Current countries only: a holder's
# country of birth is declared under today's name.
PAYS: dict[str, str] = {
    "100": "France",
    "101": "Danemark", "102": "Islande", "103": "Norvège", "104": "Suède", "105": "Finlande",
    "106": "Estonie", "107": "Lettonie", "108": "Lituanie", "109": "Allemagne",
    "110": "Autriche", "111": "Bulgarie", "112": "Hongrie", "113": "Liechtenstein",
    "114": "Roumanie", "116": "Tchéquie", "117": "Slovaquie", "118": "Bosnie-Herzégovine",
    "119": "Croatie", "121": "Serbie", "122": "Pologne", "123": "Russie", "125": "Albanie",
    "126": "Grèce", "127": "Italie", "128": "Saint-Marin", "129": "Vatican", "130": "Andorre",
    "131": "Belgique", "132": "Royaume-Uni", "133": "Gibraltar", "134": "Espagne",
    "135": "Pays-Bas", "136": "Irlande", "137": "Luxembourg", "138": "Monaco",
    "139": "Portugal", "140": "Suisse", "144": "Malte", "145": "Slovénie", "148": "Biélorussie",
    "151": "Moldavie", "155": "Ukraine", "156": "Macédoine du Nord", "157": "Kosovo",
    "201": "Arabie saoudite", "203": "Irak", "204": "Iran", "205": "Liban", "206": "Syrie",
    "207": "Israël", "208": "Turquie", "212": "Afghanistan", "213": "Pakistan",
    "214": "Bhoutan", "215": "Népal", "216": "Chine", "217": "Japon", "219": "Thaïlande",
    "220": "Philippines", "222": "Jordanie", "223": "Inde", "224": "Birmanie",
    "225": "Brunei", "226": "Singapour", "227": "Malaisie", "229": "Maldives",
    "231": "Indonésie", "234": "Cambodge", "235": "Sri Lanka", "236": "Taïwan",
    "238": "Corée du Nord", "239": "Corée du Sud", "240": "Koweït", "241": "Laos",
    "242": "Mongolie", "243": "Viêt Nam", "246": "Bangladesh", "247": "Émirats arabes unis",
    "248": "Qatar", "249": "Bahreïn", "250": "Oman", "252": "Arménie", "253": "Azerbaïdjan",
    "254": "Chypre", "255": "Géorgie", "256": "Kazakhstan", "257": "Kirghizistan",
    "258": "Ouzbékistan", "259": "Tadjikistan", "260": "Turkménistan", "261": "Palestine",
    "262": "Timor oriental",
    "301": "Égypte", "302": "Liberia", "303": "Afrique du Sud", "304": "Gambie",
    "309": "Tanzanie", "311": "Namibie", "312": "République démocratique du Congo",
    "314": "Guinée équatoriale", "315": "Éthiopie", "316": "Libye", "317": "Érythrée",
    "318": "Somalie", "321": "Burundi", "322": "Cameroun", "323": "Centrafrique",
    "324": "Congo", "326": "Côte d'Ivoire", "327": "Bénin", "328": "Gabon", "329": "Ghana",
    "330": "Guinée", "331": "Burkina Faso", "332": "Kenya", "333": "Madagascar",
    "334": "Malawi", "335": "Mali", "336": "Mauritanie", "337": "Niger", "338": "Nigeria",
    "339": "Ouganda", "340": "Rwanda", "341": "Sénégal", "342": "Sierra Leone",
    "343": "Soudan", "344": "Tchad", "345": "Togo", "347": "Botswana", "348": "Lesotho",
    "349": "Soudan du Sud", "350": "Maroc", "351": "Tunisie", "352": "Algérie",
    "390": "Maurice", "391": "Eswatini", "392": "Guinée-Bissau", "393": "Mozambique",
    "394": "Sao Tomé-et-Principe", "395": "Angola", "396": "Cap-Vert", "397": "Comores",
    "398": "Seychelles", "399": "Djibouti",
    "401": "Canada", "404": "États-Unis", "405": "Mexique", "406": "Costa Rica",
    "407": "Cuba", "408": "République dominicaine", "409": "Guatemala", "410": "Haïti",
    "411": "Honduras", "412": "Nicaragua", "413": "Panama", "414": "Salvador",
    "415": "Argentine", "416": "Brésil", "417": "Chili", "418": "Bolivie", "419": "Colombie",
    "420": "Équateur", "421": "Paraguay", "422": "Pérou", "423": "Uruguay",
    "424": "Venezuela", "426": "Jamaïque", "428": "Guyana", "429": "Belize",
    "430": "Groenland", "433": "Trinité-et-Tobago", "434": "Barbade", "436": "Bahamas",
    "437": "Suriname",
    "501": "Australie", "502": "Nouvelle-Zélande", "508": "Fidji",
    "510": "Papouasie-Nouvelle-Guinée",
}

# Other names people write for the same country (folded, see ``fold``).
ALIAS: dict[str, str] = {
    "ANGLETERRE": "132", "GRANDE BRETAGNE": "132", "ECOSSE": "132", "PAYS DE GALLES": "132",
    "REPUBLIQUE TCHEQUE": "116", "TCHEQUE REPUBLIQUE": "116", "HOLLANDE": "135",
    "EIRE": "136", "BIELORUSSIE": "148", "BELARUS": "148", "MACEDOINE": "156",
    "IRAQ": "203", "MYANMAR": "224", "VIETNAM": "243", "VIET NAM": "243",
    "COREE": "239", "REPUBLIQUE DE COREE": "239", "EMIRATS ARABES UNIS": "247",
    "TIMOR LESTE": "262", "RD CONGO": "312", "RDC": "312", "CONGO KINSHASA": "312",
    "CONGO BRAZZAVILLE": "324", "REPUBLIQUE DU CONGO": "324",
    "REPUBLIQUE CENTRAFRICAINE": "323", "BURKINA": "331", "ILE MAURICE": "390",
    "SWAZILAND": "391", "ETATS UNIS D AMERIQUE": "404", "USA": "404",
    "EL SALVADOR": "414", "SAO TOME ET PRINCIPE": "394",
}


def fold(text: str) -> str:
    """A name compared without accents, case, hyphens or apostrophes."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-'’.,()]", " ", bare).upper().split())


_BY_NAME: dict[str, str] = {fold(name): code for code, name in PAYS.items()} | ALIAS


def code_pays(saisie: str) -> str | None:
    """The three-digit INSEE code of a country typed as a name, ``134`` or ``99134``.

    None when the name is unknown or the digits cannot be an INSEE country code.
    """
    text = saisie.strip()
    digits = re.fullmatch(r"(?:99)?([1-5]\d\d)", text)
    if digits:
        return digits.group(1)
    return _BY_NAME.get(fold(text))


def nom_pays(code: str) -> str | None:
    """The name of the country with this three-digit INSEE code, if the table knows it."""
    return PAYS.get(code)
