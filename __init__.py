"""EmoSync: a voice recording and an emotion in, expressive ARKit-52 facial animation out."""

__version__ = "0.1.0"
