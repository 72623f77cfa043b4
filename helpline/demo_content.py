"""What the demo line says and knows: risk phrases in three languages, prepared replies, a survey, safety texts.

Filled in once: a setting an administrator has changed since is left as it is
(only empty settings are filled), and prepared replies are added only while the
line has none, so running ``seed_demo`` again changes nothing.
"""

from helpline.models import CannedResponse, Helpline
from helpline.services.lines import canned_response_create, helpline_update

# The README's example SMS ("Someone is threatening to share my photos") matches "share my photos".
RISK_PHRASES = {
    "en": ["kill myself", "suicide", "he is here now", "share my photos", "send money", "pay or", "nudes"],
    "fr": ["me suicider", "me tuer", "il est là maintenant", "partager mes photos", "envoyer de l'argent"],
    "sw": ["nataka kufa", "kujiua", "yuko hapa sasa", "picha zangu", "nitumie pesa"],
}

SAFETY_MESSAGE = {
    "en": (
        "You are not in trouble and this is not your fault. Do not pay and do not send anything more: "
        "paying rarely stops them. Keep the messages but stop replying to them. We can help you get images removed."
    ),
    "fr": (
        "Tu n'as rien fait de mal et ce n'est pas ta faute. Ne paie pas et n'envoie plus rien : payer ne les arrête "
        "presque jamais. Garde les messages mais ne réponds plus. Nous pouvons t'aider à faire retirer les images."
    ),
    "sw": (
        "Hujafanya kosa na si kosa lako. Usilipe na usitume kitu kingine: kulipa hakuwazuii. Hifadhi ujumbe "
        "lakini acha kujibu. Tunaweza kukusaidia kuondoa picha."
    ),
}

SURVEY = [
    {"id": "helped", "text": {"en": "Did this conversation help you?", "fr": "Cette conversation t'a-t-elle aidé ?",
                              "sw": "Je, mazungumzo haya yamekusaidia?"}, "choices": ["yes", "a little", "no"]},
    {"id": "again", "text": {"en": "Would you contact us again?", "fr": "Nous recontacterais-tu ?",
                             "sw": "Je, utawasiliana nasi tena?"}, "choices": ["yes", "maybe", "no"]},
]  # fmt: skip

# (category, title, text): eight in English, a few in French and Swahili.
PREPARED_REPLIES = {
    "en": [
        ("Opening", "Welcome", "Hello, thank you for writing. I'm a counsellor and I'm here to listen."),
        ("Opening", "Still there?", "Are you still there? Take your time, I'm here when you're ready."),
        ("Safety", "Are you safe now?", "Are you safe right now? If you are in danger, call 112."),
        ("Sextortion", "Don't pay", (
            "Thank you for telling me. This is not your fault. Please don't pay or send anything more: paying "
            "rarely makes them stop. Keep the messages as evidence, block them, and we'll work out what to do together."
        )),
        ("Sextortion", "Get images removed", (
            "If someone has shared or threatens to share an image of you, it can be taken down. We can help you "
            "report it so the image is removed, and you don't have to send it to us."
        )),
        ("Self-generated images", "You're not in trouble", (
            "Sending a picture of yourself doesn't make you a bad person and you are not in trouble. "
            "What the other person does with it is their responsibility."
        )),
        ("Self-generated images", "Report Remove", (
            "If you are under 18 and a nude image of you is online, there is a service that can help remove it "
            "without anyone seeing who you are. Would you like me to explain how it works?"
        )),
        ("Closing", "Goodbye", "Thank you for talking to me today. You can write again any time; we're here for you."),
    ],
    "fr": [
        ("Ouverture", "Bienvenue", "Bonjour, merci de nous écrire. Je suis là pour t'écouter. Que se passe-t-il ?"),
        ("Sextorsion", "Ne paie pas", "Merci de me le dire. Ce n'est pas ta faute. Ne paie pas et n'envoie plus rien."),
    ],
    "sw": [
        ("Mwanzo", "Karibu", "Habari, asante kwa kutuandikia. Niko hapa kukusikiliza. Kuna nini?"),
        ("Usalama", "Usilipe", "Asante kwa kuniambia. Si kosa lako. Usilipe na usitume kitu kingine."),
    ],
}  # fmt: skip

EMERGENCY_NUMBER = "112"


def demo_content_ensure(line: Helpline) -> None:
    """Fill the demo line's empty settings and give it prepared replies if it has none."""
    wanted = {
        "risk_phrases": RISK_PHRASES,
        "safety_message": SAFETY_MESSAGE,
        "survey": SURVEY,
        "emergency_number": EMERGENCY_NUMBER,
        "chat_display_name": "Talk to us",
    }
    values = {name: value for name, value in wanted.items() if not getattr(line, name)}
    if values:
        helpline_update(actor=None, line=line, values=values, reason="Demo data")
    if not CannedResponse.objects.filter(line=line).exists():
        for language, replies in PREPARED_REPLIES.items():
            for category, title, body in replies:
                canned_response_create(
                    actor=None,
                    values={"line": line, "language": language, "category": category, "title": title, "body": body},
                )
