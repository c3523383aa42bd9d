"""Understanding: a shopper's message -> typed commands (docs/commands.md) and sentiment.

``Reader.read(text, context) -> Reading`` runs the cascade: the fast learned parser, then the local
LLM when the parse is unsure. Importing this package is cheap: models load on the first message.
"""

from assistant.nlu.commands import COMMAND_TYPES, Command
from assistant.nlu.reader import Reader, Reading

__all__ = ["COMMAND_TYPES", "Command", "Reader", "Reading"]
