"""Understanding: intents, entities and sentiment for one shopper message.

``NLU.from_settings(settings, catalog).understand(text, state=None) -> Understanding``.
Importing this package is cheap: the embedding model loads on the first message.
"""

from assistant.nlu.core import NLU, Understanding
from assistant.nlu.data import INTENTS
from assistant.nlu.entities import Entities

__all__ = ["INTENTS", "NLU", "Entities", "Understanding"]
