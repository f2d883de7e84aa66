"""Studio batch: many voice lines from a manifest, resumable, each line on its own, on a local
process pool or a Ray cluster. `emosync batch` and the Blender batch entry point both use it."""
