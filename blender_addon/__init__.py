"""EmoSync for Blender: animate a character's face from a voice clip and an emotion.

The runtime (the `emosync` package, onnxruntime, pocketsphinx) comes from the wheels bundled in
the extension; see blender_manifest.toml.
"""

from __future__ import annotations


def register() -> None:
    from . import registration

    registration.register()


def unregister() -> None:
    from . import registration

    registration.unregister()
