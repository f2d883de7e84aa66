"""Errors that cross layers. Bad user input is an InputError: the CLI prints one line, exits 2."""


class EmoSyncError(Exception):
    """Base class of every error EmoSync raises on purpose."""


class InputError(EmoSyncError, ValueError):
    """The user gave something we cannot use (file, emotion, option). Message is one line."""
