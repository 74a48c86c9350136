"""The words speaker labels are made of: roles, honorifics, questioners, connectors, and the
words that show a line is prose or a heading rather than a label. Shared by label finding
(`ingest.labels`) and label reading (`ingest.label_reading`)."""

from __future__ import annotations

import re

CONNECTORS = frozenset(
    "of the and for on in at to de del della da das dos du van von der den ter al el bin ibn la le y e las los pro tempore"
    " des aux et"
    .split()
)
NAME_PARTICLES = frozenset("de del della da das dos du van von der den ter al el bin ibn la le".split())
PLAIN_CONNECTORS = CONNECTORS - NAME_PARTICLES - {"pro", "tempore"}
MAX_LABEL_WORDS = 16
MAX_SHOUTED_LABEL_WORDS = 24  # "MANUEL BARTLETT DÍAZ, DIRECTOR GENERAL DE LA COMISIÓN FEDERAL DE ..."

# First words of labels that are never speakers: headings, notes, form fields, salutations.
NOT_SPEAKERS = frozenset(
    """my dear to fellow fellow-citizens fellow-countrymen ladies gentlemen citizens friends
    colleagues excellencies distinguished madam madame mesdames listen look turning speaking
    looking regarding concerning declaration finally firstly secondly thirdly lastly again
    therefore however moreover for and but yes no well so now today here there then once thus
    hence why what how who when where which this that these those it we i you they he she our
    your their its let in on at as if or by with from
    text note notes nb ps p.s source sources see also example examples total subject subjects topic
    topics re date time place location venue tags transcript ends end update warning important
    attention photo photos video audio contact email e-mail tel telephone phone fax website web
    url link links reference ref title summary agenda item items step chapter section article
    annex appendix figure table part day morning afternoon evening background context keywords
    highlights embargoed embargo e&oe caption credit credits attachment attachments tweet
    statement details copyright disclaimer please related members resolved ordered motion amendment panel
    division ayes noes question-time""".split()
)
# Whole labels that are never speakers.
NOT_SPEAKER_WORDS = frozenset(
    """one two three four five six seven eight nine ten first second third fourth fifth sixth
    seventh eighth ninth tenth last next""".split()
)
SALUTATION_WORDS = frozenset("ladies gentlemen fellow citizens countrymen excellencies".split())
POST_NOMINALS = frozenset("ao ac mp qc sc kc oam am cbe obe mbe kbe phd mla mlc cvo dsc csc afc apm jr sr".split())
PLACE_PREFIXES = frozenset(
    """south north new united saudi sri abu costa el san sierra burkina equatorial central czech
    dominican papua solomon marshall cabo cape east west bosnia trinidad antigua sao são""".split()
)
NOT_SPEAKER_PHRASES = frozenset(
    {"key points", "check against delivery", "media release", "media contact", "media contacts",
     "for more information", "further information", "read more", "see also", "question time",
     "press release", "editor's note", "editor’s note", "related links", "fact sheet", "joint statement",
     "in favour", "against", "abstaining", "adoption of the agenda",
     # vocatives that open a journalist's line, never a label: "Mr. President: Paul Volcker ..."
     "mr. president", "mr president", "madam president", "madame president", "mr. prime minister",
     "mr prime minister", "madam prime minister", "mr. secretary", "madam secretary"}
)

# Labels (lower-cased) of questioners rather than of the statement's speakers, and the speaker
# name they are stored under.
QUESTION_WORDS = {
    "question": "Question", "questions": "Question", "q": "Question", "remark": "Remark",
    "remarks from the floor": "Remark", "reply": "Reply", "response": "Response",
    "comment": "Comment", "journalist": "Journalist", "journalists": "Journalist",
    "reporter": "Journalist", "reporters": "Journalist", "media": "Journalist",
    "press": "Journalist", "correspondent": "Journalist", "host": "Host", "presenter": "Host",
    "interviewer": "Interviewer", "anchor": "Host", "compere": "Host",
    "caller": "Caller", "audience": "Audience", "audience member": "Audience",
    "participant": "Participant", "voice": "Voice", "unidentified": "Unidentified",
    "student": "Student", "call centre operator": "Call Centre Operator",
    "pregunta": "Pregunta", "interlocutor": "Interlocutor", "interlocutora": "Interlocutor",
    "interlocutor(a)": "Interlocutor", "reportero": "Journalist", "reportera": "Journalist",
    "periodista": "Journalist", "interpreter": "Interpreter", "translator": "Interpreter",
    "intérprete": "Interpreter",
}
QUESTION_HEAD_RE = re.compile(
    r"^(?P<word>questions?|q|remark|reply|response|comment|journalists?|reporters?|media|press|"
    r"correspondent|host|presenter|interviewer|anchor|compere|caller|audience(?: member)?|"
    r"participant|voice|unidentified|student|call centre operator|pregunta|interlocutora?|reporter[oa]|periodista|"
    r"interpreter|translator|intérprete)"
    r"(?P<rest>(?:\s+(?:\d+|[A-Z]|#\d+|(?:from|to|at|in|de)\b.*))?)$",
    re.I,
)
# Turns of people who are not the statement's speakers and not journalists either: they are
# never quoted as an official's answer (stored as questions), and are nobody's identity.
ANONYMOUS_HEADS = frozenset(
    """official officials spokesperson spokesman spokeswoman moderator operator interpreter translator
    participant speaker reporter briefer staffer aide""".split()
)
ANONYMOUS_QUALIFIERS = frozenset(
    """senior administration state department white house defense defence pentagon military
    official officials unidentified unknown male female another second third other background
    u.s. us government ministry""".split()
)
VOICE_RE = re.compile(r"^voz(?:\s+(?:de\s+)?(?:mujer|hombre|niña|niño|femenina|masculina|en off))?$", re.I)
GROUP_RE = re.compile(
    r"^(?:hon(?:ourable|orable)?\.?\s+)?(?:noble\s+)?(?:members|lords|senators|delegates|several members|"
    r"opposition members|government members|crowd|the crowd|crowds|protesters)$", re.I)
NUMBERED_SPEAKER_RE = re.compile(r"^(?:unidentified |unknown )?(?:speaker|participant|voice|person|man|woman)\s*#?\d{1,3}$",
                                 re.I)  # "Speaker 1:" in machine transcripts
MARKUP_CHARS = "*_>#|~` \t"

ABBREV_DOT_RE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|St|Sen|Gen|Hon|Rev|Prof|Lt|Col|Capt|Jr|Sr|Rep|Sec|Adm|Amb|Gov|Maj|Sgt|Cdr|Brig|Mons|Msgr|[A-Z])\.",
    re.I)
ACRONYMS = frozenset(
    "PM DPM MP CEO CFO US USA UK UN EU NSW ACT QLD WA SA NT VIC ABC SBS BBC CNN TV CFE PROFECO IMSS ISSSTE".split())
ROLE_ONLY_WORDS = frozenset(
    """president premier treasurer minister chairman chairwoman chair speaker governor mayor pm dpm ceo
    secretary ambassador chancellor senator attorney-general commissioner spokesman spokeswoman
    spokesperson leader director chief secretary-general presidente presidenta secretario secretaria
    canciller gobernador gobernadora porte-parole ministre présidente président secrétaire ambassadeur
    ambassadrice""".split()
)
HONORIFICS = frozenset(
    """mr mrs ms miss dr sir dame hon honourable honorable rev prof sen rep sec gen adm amb gov maj sgt cdr brig
    lt col capt monsignor mons msgr madam madame his her excellency h.e mister senator representative
    secretary general admiral ambassador governor""".split()
)
PERSONAL_HONORIFICS = frozenset("mr mrs ms miss dr mister madam madame monsignor msgr mons mme mlle m monsieur".split())
# Role words that are also common surnames: after an honorific they are the surname ("MR. CHANCELLOR:")
SURNAME_ROLES = frozenset("chancellor king major bishop marshal dean judge sheriff prince baron earl".split())
PEERAGE = frozenset("lord lady baroness baron viscount viscountess earl countess duke duchess marquess".split())

# Words that name roles or institutions; a person's name is what follows the last of them.
ROLE_WORDS = frozenset(
    """president vice prime minister ministers deputy first chairman chairwoman chairperson chair
    head governor director general ceo cfo coo secretary speaker federal chancellor foreign defence
    defense finance healthcare health interior commissioner emir king queen crown prince princess
    ruling patriarch metropolitan mayor premier treasurer senator ambassador acting press
    presidential attorney-general attorney chief executive officer leader member board management
    spokesman spokeswoman spokesperson representative envoy special adviser advisor advisers advisors aide senators
    comrade comrades citizen navy army forces police marines
    assistant commander admiral colonel lieutenant major captain sergeant marshal dr mr mrs ms sir dame lord
    lady hon honourable honorable opposition shadow state federation council committee
    corporation bank company fund agency service ministry department office chamber commission
    court academy union party group region territory republic government parliament duma
    congress assembly development trade industry affairs monitoring utilities resources
    environment energy transport education science culture sport labour social protection
    communications justice emergency emergencies economic economy agriculture construction
    housing technology digital relief civil national international public security homeland
    h.e excellency daw his her managing founder partner professor rector dean principal pm dpm mp mayor-elect
    minister-designate premier-elect treasurer-designate nsw qld vic wa sa act nt us usa uk un
    sec gen adm amb gov rep sen presiding officer clerk secretary-general pro tempore
    presidente presidenta secretario secretaria subsecretario subsecretaria directora coordinador coordinadora
    gobernador gobernadora jefe jefa titular comisionado comisionada vocero vocera canciller fiscal almirante
    marina gobernación méxico hacienda salud educación pública seguridad ciudadana defensa
    economía energía bienestar comunicaciones transportes trabajo cultura
    arqueólogo arqueóloga doctor doctora licenciado licenciada ingeniero ingeniera maestro maestra
    senador senadora diputado diputada procurador procuradora consejero consejera
    parliamentary under-secretary paymaster solicitor-general solicitor lord-advocate
    ministre présidente président directrice directeur secrétaire ambassadrice ambassadeur conseillère conseiller
    déléguée délégué adjointe adjoint cheffe porte-parole générale étrangères affaires consulaires
    république ministère gouvernement assemblée conseil présidence secrétariat
    journalist journalists correspondent correspondents reporter reporters editor editors editor-in-chief
    chief-editor anchor presenter columnist commentator newspaper newspapers magazine agency agencies news
    radio television tv channel broadcaster network gazette gazeta bureau moderator""".split()
)
# Lower-case words a label may hold beside its capitalised ones ("Editor-in-chief of the Kommersant
# newspaper Sergei Yakovlev:", "Director General of the Interfax news agency Mikhail Komissar:").
LABEL_LOWER_WORDS = frozenset(
    """newspaper newspapers magazine agency news channel radio television tv station network journal daily
    weekly programme program editor-in-chief correspondent journalist columnist commentator host presenter
    anchor reporter i
    ministre présidente président directrice directeur secrétaire ambassadrice ambassadeur conseillère conseiller
    déléguée délégué adjointe adjoint cheffe chef porte-parole générale général""".split()  # "Argumenty i Fakty"
)
DOC_SPEAKER_ROLES = frozenset({"prime minister", "pm", "the prime minister", "president", "the president"})

TOKEN_RE = re.compile(r"^[\"“]?(?:(?:[a-z]{1,3}[-'’])?[^\W_a-zß-ÿ][\w'’.&-]*|&)[\"”]?,?$")
CAMEL_RE = re.compile(r"^([A-Z][a-z]{4,})([A-Z][a-z]{2,})$")
SENTENCE_PUNCT_RE = re.compile(r"[?!;\"“”]|\.\s|\.$")
PAREN_RE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
ROMAN_RE = re.compile(r"^[IVX]{2,}[,.]?$")
SURNAME_PREFIX_RE = re.compile(r"^(?:(O|D|L)['’]|(Mc|Mac))(.*)$", re.I)
