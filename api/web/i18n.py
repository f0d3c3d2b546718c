"""User-facing strings of the advisor pages, French first, English second.

A plain dict rather than gettext catalogs: two languages, a few hundred words, no build
step (no .mo compilation) and one file a translator can read. A missing English string falls
back to French, a missing key shows the key itself (visible in review, never a crash).
"""

from __future__ import annotations

from typing import Any

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"

STRINGS: dict[str, tuple[str, str]] = {
    # chrome
    "colon": (" :", ":"),
    "app_name": ("relocmatch — fournisseurs français", "relocmatch — French suppliers"),
    "nav_search": ("Recherche", "Search"),
    "nav_bom_new": ("Charger une nomenclature", "Upload a BOM"),
    "nav_boms": ("Nomenclatures", "BOMs"),
    "nav_observatory": ("Observatoire", "Observatory"),
    "nav_signout": ("Se déconnecter", "Sign out"),
    "lang_switch": ("English", "Français"),
    "skip_to_content": ("Aller au contenu", "Skip to content"),
    "local_mode": ("Mode local (sans authentification)", "Local mode (no authentication)"),
    "signed_in_as": ("Connecté : {org}", "Signed in: {org}"),
    # sign-in
    "signin_title": ("Connexion conseiller", "Advisor sign-in"),
    "signin_help": (
        "Saisissez la clé d'API fournie par l'administrateur de votre organisation.",
        "Enter the API key your organisation's administrator gave you.",
    ),
    "signin_key": ("Clé d'API", "API key"),
    "signin_submit": ("Se connecter", "Sign in"),
    "signin_bad": ("Clé inconnue ou révoquée.", "Unknown or revoked key."),
    "signin_account_title": ("Avec votre compte", "With your account"),
    "signin_email": ("Adresse électronique", "Email address"),
    "signin_password": ("Mot de passe", "Password"),
    "signin_key_title": ("Avec une clé d'API", "With an API key"),
    "signin_key_submit": ("Se connecter avec la clé", "Sign in with the key"),
    "signin_bad_password": (
        "Adresse ou mot de passe refusé (ou compte verrouillé ou désactivé). Après {n} échecs de suite, "
        "le compte est verrouillé un moment ; un administrateur peut le déverrouiller.",
        "Email or password refused (or account locked or disabled). After {n} failures in a row the "
        "account is locked for a while; an administrator can unlock it.",
    ),
    "signin_slow_down": ("Trop de tentatives de connexion ; réessayez dans {s} s.",
                         "Too many sign-in attempts; try again in {s} s."),
    "session_expired": ("Votre session a expiré ; reconnectez-vous.", "Your session has expired; please sign in again."),
    "nav_signout_everywhere": ("Se déconnecter partout", "Sign out everywhere"),
    "nav_admin": ("Administration", "Administration"),
    # admin page
    "admin_title": ("Administration", "Administration"),
    "admin_only": ("Cette page est réservée aux administrateurs.", "This page is for administrators only."),
    "admin_accounts": ("Comptes", "Accounts"),
    "admin_new_account": ("Nouveau compte", "New account"),
    "admin_keys": ("Clés d'API (services)", "API keys (services)"),
    "admin_keys_none": ("Aucune clé.", "No key."),
    "admin_name": ("Nom", "Name"),
    "admin_role": ("Rôle", "Role"),
    "admin_org": ("Organisation", "Organisation"),
    "admin_state": ("État", "State"),
    "admin_last_signin": ("Dernière connexion", "Last sign-in"),
    "admin_sessions": ("Sessions ouvertes", "Open sessions"),
    "admin_actions": ("Actions", "Actions"),
    "admin_initial_password": ("Mot de passe initial (12 caractères au moins)", "Initial password (12 characters or more)"),
    "admin_create": ("Créer le compte", "Create the account"),
    "admin_created": ("Compte {email} créé.", "Account {email} created."),
    "admin_done": ("Fait : {what}.", "Done: {what}."),
    "admin_disable": ("Désactiver", "Disable"),
    "admin_enable": ("Réactiver", "Enable"),
    "admin_unlock": ("Déverrouiller", "Unlock"),
    "admin_end_sessions": ("Fermer ses sessions", "End its sessions"),
    "admin_revoke": ("Révoquer", "Revoke"),
    "admin_revoked": ("révoquée le {at}", "revoked {at}"),
    "admin_active": ("actif", "active"),
    "admin_disabled": ("désactivé", "disabled"),
    "admin_locked": ("verrouillé", "locked"),
    "admin_locked_until": ("verrouillé jusqu'à {at}", "locked until {at}"),
    "admin_key_id": ("Identifiant", "Id"),
    "admin_key_created": ("Créée le", "Created"),
    "admin_key_last_used": ("Dernier usage journalisé", "Last audited use"),
    "admin_key_role_admin": ("admin", "admin"),
    "admin_key_role_service": ("service", "service"),
    "role_admin": ("administrateur", "administrator"),
    "role_advisor": ("conseiller", "advisor"),
    "role_company": ("entreprise", "company"),
    "csrf_bad": (
        "Le formulaire a expiré ou ne vient pas de ce site ; rechargez la page et recommencez.",
        "The form expired or did not come from this site; reload the page and try again.",
    ),
    # search
    "search_title": ("Rechercher des fournisseurs", "Find suppliers"),
    "search_q": ("Produit recherché (texte libre)", "Product (free text)"),
    "search_q_ph": ("ex. roulements à billes, tôles d'acier laminées", "e.g. ball bearings, rolled steel sheets"),
    "search_code": ("Code produit (NC8, SH6…)", "Product code (CN8, HS6…)"),
    "search_region": ("Région privilégiée", "Preferred region"),
    "search_buyer": ("Commune ou code postal de l'acheteur (facultatif)", "Buyer's commune or postcode (optional)"),
    "search_submit": ("Rechercher", "Search"),
    "search_empty": ("Saisissez un produit ou un code.", "Enter a product or a code."),
    "search_none": (
        "Aucun établissement français trouvé pour ce produit.",
        "No French establishment found for this product.",
    ),
    "search_results": ("{n} fournisseurs proposés", "{n} suppliers proposed"),
    "understood_as": ("Produit compris", "Understood as"),
    "activities": ("Activités productrices", "Producing activities"),
    # table
    "col_rank": ("Rang", "Rank"),
    "col_tier": ("Zone", "Area"),
    "col_name": ("Établissement", "Establishment"),
    "col_naf": ("Activité (NAF)", "Activity (NAF)"),
    "col_place": ("Commune (dépt)", "Town (dept)"),
    "col_distance": ("Distance", "Distance"),
    "col_score": ("Score", "Score"),
    "col_reasons": ("Pourquoi", "Why"),
    "reason_codes": ("codes", "codes"),
    "no_buyer_note": ("distance : pas de commune acheteur donnée", "distance: no buyer commune given"),
    "other_activities": ("Autres pistes", "Other leads"),
    "col_feedback": ("Votre avis", "Your feedback"),
    "tier_national": ("France", "France"),
    "km": ("{d} km", "{d} km"),
    "missing": ("—", "—"),
    # supplier
    "supplier_title": ("Établissement", "Establishment"),
    "siret": ("SIRET", "SIRET"),
    "address": ("Adresse", "Address"),
    "commune": ("Commune", "Town"),
    "departement": ("Département", "Département"),
    "region": ("Région", "Region"),
    "activity": ("Activité", "Activity"),
    "size_band": ("Tranche d'effectifs", "Headcount band"),
    "source": ("Source", "Source"),
    "matched_for": ("Proposé pour", "Proposed for"),
    "supplier_unknown": ("Établissement absent du catalogue.", "Establishment not in the catalog."),
    "back_search": ("Retour à la recherche", "Back to search"),
    "annuaire_hint": (
        "Coordonnées, statut juridique et dirigeants : ils ne figurent pas dans le registre du catalogue.",
        "Contact details, legal status and officers: the catalog's register does not hold them.",
    ),
    "annuaire_link": ("Voir l'établissement sur l'Annuaire des Entreprises (data.gouv.fr)",
                      "See the establishment on the Annuaire des Entreprises (data.gouv.fr)"),
    "supplier_name": ("Nom au registre", "Name in the register"),
    "naf_code": ("Code NAF", "NAF code"),
    "naf_label": ("Activité (NAF)", "Activity (NAF)"),
    "postcode": ("Code postal", "Postcode"),
    "collectivity": ("Collectivité d'outre-mer", "Overseas collectivity"),
    "fact_field": ("Champ", "Field"),
    "fact_value": ("Valeur", "Value"),
    "fact_sources": ("Sources", "Sources"),
    "same_siret": ("Le registre liste {n} installations sous ce SIRET (champs ci-dessus : la première) :",
                   "The register lists {n} installations under this SIRET (fields above: the first one):"),
    # BOM upload + mapping
    "bom_new_title": ("Charger une nomenclature", "Upload a bill of materials"),
    "bom_file": ("Fichier (CSV, TSV, XLSX, ODS, JSON)", "File (CSV, TSV, XLSX, ODS, JSON)"),
    "bom_upload": ("Lire le fichier", "Read the file"),
    "bom_region": ("Région privilégiée", "Preferred region"),
    "bom_buyer": ("Commune ou code postal de l'entreprise (facultatif)", "Company's commune or postcode (optional)"),
    "mapping_title": ("Vérifier la lecture du fichier", "Check how the file was read"),
    "layout": ("Format détecté", "Detected layout"),
    "layout_format": ("Format", "Format"),
    "layout_encoding": ("Encodage", "Encoding"),
    "layout_delimiter": ("Séparateur", "Delimiter"),
    "layout_sheet": ("Feuille", "Sheet"),
    "layout_header_row": ("Ligne d'en-tête", "Header row"),
    "mapping": ("Correspondance des colonnes", "Column mapping"),
    "mapping_help": (
        "Chaque rôle est associé à une colonne du fichier. Corrigez si besoin, puis lancez l'analyse.",
        "Each role is tied to a column of the file. Correct it if needed, then start the analysis.",
    ),
    "role": ("Rôle", "Role"),
    "column": ("Colonne", "Column"),
    "evidence": ("Indice", "Evidence"),
    "not_used": ("(aucune)", "(none)"),
    "role_description": ("Désignation", "Description"),
    "role_code": ("Code produit (NC/SH)", "Product code (CN/HS)"),
    "role_origin": ("Pays d'origine", "Origin country"),
    "role_value": ("Valeur annuelle (€)", "Annual value (€)"),
    "role_quantity": ("Quantité", "Quantity"),
    "role_unit": ("Unité", "Unit"),
    "role_reference": ("Référence", "Reference"),
    "role_supplier": ("Fournisseur actuel", "Current supplier"),
    "role_unit_price": ("Prix unitaire", "Unit price"),
    "col_row": ("Ligne", "Row"),
    "col_understood": ("Compris", "Understood"),
    "upload_expired": ("Ce chargement a expiré ; chargez le fichier à nouveau.", "This upload expired; upload the file again."),
    "catalog_missing": ("Le catalogue des fournisseurs n'est pas chargé : {why}", "The supplier catalog is not loaded: {why}"),
    "job_not_done": ("L'analyse n'est pas terminée.", "The analysis is not finished."),
    "preview": ("Aperçu des premières lignes lues", "Preview of the first lines read"),
    "lines_read": ("{n} lignes lues", "{n} lines read"),
    "confirm_start": ("Confirmer et lancer l'analyse", "Confirm and start the analysis"),
    "bom_read_error": ("Le fichier n'a pas pu être lu", "The file could not be read"),
    # progress
    "progress_title": ("Analyse en cours", "Analysis running"),
    "progress_label": ("Avancement", "Progress"),
    "progress_lines": ("{done} / {total} lignes", "{done} / {total} lines"),
    "progress_queued": ("En attente de démarrage…", "Waiting to start…"),
    "progress_failed": ("L'analyse a échoué", "The analysis failed"),
    "progress_nojs": (
        "La page se recharge toute seule toutes les 3 secondes.",
        "This page reloads itself every 3 seconds.",
    ),
    "see_results": ("Voir les résultats", "See the results"),
    # results
    "results_title": ("Résultats : {name}", "Results: {name}"),
    "summary": ("Synthèse", "Summary"),
    "sum_lines": ("Lignes", "Lines"),
    "sum_matched": ("Avec fournisseur français", "With a French supplier"),
    "sum_regional": ("Avec un fournisseur {region}", "With a {region} supplier"),
    "sum_no_candidate": ("Sans alternative française", "No French alternative"),
    "sum_errors": ("Lignes en erreur", "Lines in error"),
    "sum_share": (
        "Part de la valeur importée avec une alternative française",
        "Share of imported value with a French alternative",
    ),
    "export_xlsx": ("Télécharger (XLSX)", "Download (XLSX)"),
    "export_csv": ("Télécharger (CSV)", "Download (CSV)"),
    "line": ("Ligne {n}", "Line {n}"),
    "line_priority": ("Priorité", "Priority"),
    "line_value": ("Valeur annuelle", "Annual value"),
    "line_origin": ("Origine", "Origin"),
    "skipped_rows": ("{n} lignes du fichier ignorées (titres, vides, totaux…)", "{n} rows of the file skipped (titles, blanks, totals…)"),
    "pages": ("Pages de lignes", "Pages of lines"),
    "no_candidate": ("Aucune alternative française trouvée", "No French alternative found"),
    "no_producer": ("Aucun producteur français crédible dans le catalogue", "No credible French producer in the catalog"),
    "no_provider": ("Aucun prestataire de ce service dans le catalogue", "The catalog holds no provider of this service"),
    "service_line": ("Prestation de service", "Service"),
    "confidence": ("Confiance", "Confidence"),
    "conf_high": ("élevée", "high"),
    "conf_medium": ("moyenne", "medium"),
    "conf_low": ("faible", "low"),
    "confidence_help": ("Probabilité estimée qu'un bon fournisseur figure parmi les dix proposés (calibrée sur les "
                        "lignes de développement)", "Estimated probability that a right supplier is among the ten "
                        "shown (calibrated on the development lines)"),
    "low_confidence": ("Confiance faible : fournisseurs à vérifier", "Low confidence: check these suppliers"),
    "line_error": ("Ligne non traitée", "Line not processed"),
    "top_regional": ("Fournisseurs {region}", "{region} suppliers"),
    "top_national": ("Ailleurs en France", "Elsewhere in France"),
    "no_regional": ("Aucun fournisseur {region} proposé.", "No {region} supplier proposed."),
    "map_section": ("Où sont les fournisseurs proposés", "Where the proposed suppliers are"),
    "map_title": ("Fournisseurs proposés par département", "Proposed suppliers by département"),
    "map_desc": (
        "Carte de France métropolitaine ; {total} établissements proposés répartis dans {deps} départements ; "
        "la région {region} est mise en évidence.",
        "Map of metropolitan France; {total} proposed establishments over {deps} départements; "
        "the {region} region is highlighted.",
    ),
    "map_outside": ("Hors métropole :", "Outside mainland:"),
    "map_table": ("Tableau : fournisseurs par département", "Table: suppliers by département"),
    "count": ("Établissements", "Establishments"),
    "bar_title": ("Part de la nomenclature par alternative", "Share of the BOM by alternative"),
    "share_regional": ("Alternative {region}", "{region} alternative"),
    "share_national": ("Alternative ailleurs en France", "Alternative elsewhere in France"),
    "share_none": ("Pas d'alternative", "No alternative"),
    "basis_value": ("en valeur annuelle", "by annual value"),
    "basis_lines": ("en nombre de lignes, faute de valeurs", "by number of lines, no values given"),
    "share": ("Part", "Share"),
    # feedback
    "fb_pertinent": ("Pertinent", "Relevant"),
    "fb_non_pertinent": ("Non pertinent", "Not relevant"),
    "fb_contacte": ("Contacté", "Contacted"),
    "fb_retenu": ("Retenu", "Selected"),
    "fb_comment": ("Commentaire (facultatif)", "Comment (optional)"),
    "fb_saved": ("Avis enregistré : {label}", "Feedback saved: {label}"),
    "fb_legend": ("Avis sur {name}", "Feedback on {name}"),
    # lists
    "boms_title": ("Nomenclatures analysées", "Analysed BOMs"),
    "boms_none": ("Aucune nomenclature pour l'instant.", "No BOM yet."),
    "col_file": ("Fichier", "File"),
    "col_status": ("État", "Status"),
    "col_created": ("Créée le", "Created"),
    "status_queued": ("en attente", "queued"),
    "status_running": ("en cours", "running"),
    "status_done": ("terminée", "done"),
    "status_failed": ("échec", "failed"),
    "not_found": ("Page introuvable.", "Page not found."),
    "forbidden": ("Accès refusé.", "Access denied."),
}


def normalize_lang(raw: str | None) -> str:
    """Map any requested language to one we have (``en-GB`` → ``en``), French by default."""
    if not raw:
        return DEFAULT_LANG
    code = raw.strip().lower()[:2]
    return code if code in LANGS else DEFAULT_LANG


def t(lang: str, key: str, **params: Any) -> str:
    """The string ``key`` in ``lang`` with ``{params}`` filled in."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" and pair[1] else pair[0]
    return text.format(**params) if params else text


def region_label(lang: str, tier: str | None, region_name: str) -> str:
    """The tier badge text: the preferred région's name, or "France"."""
    return region_name if tier == "regional" else t(lang, "tier_national")


def reason_text(reason: dict[str, Any], lang: str) -> str:
    """A reason from the result contract in the page's language (French when no English)."""
    if lang == "en" and reason.get("text_en"):
        return str(reason["text_en"])
    return str(reason.get("text") or reason.get("signal") or "")


def reason_detail(reason: dict[str, Any], lang: str) -> str:
    """The code chain behind a plain reason (CN → CPA → NACE → NAF), in the page's language; empty
    when the reason has none (older stored results, reasons that are already codes)."""
    if lang == "en" and reason.get("detail_en"):
        return str(reason["detail_en"])
    return str(reason.get("detail") or "")


def tie_text(supplier: dict[str, Any], lang: str) -> str:
    """What ordered a supplier among others of the same score, or empty when it has no tie."""
    tie = supplier.get("tie") or {}
    if not tie:
        return ""
    return str(tie.get("text_en") if lang == "en" and tie.get("text_en") else tie.get("text") or "")
