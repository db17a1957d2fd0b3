"""wgbot: a Zulip bot that runs a working group's meetings from chat."""

__version__ = "0.1.0"
