"""A talking portrait from one photo, driven by the same FaceCurves as the 3D path.

    from emosync.render.portrait import load_portrait
    from emosync.render.video import render_frames, write_video

    portrait = load_portrait("face.jpg")  # or an RGB uint8 array; tracked once
    for frame in render_frames(curves, portrait, size=512):  # RGB uint8 at curves.fps
        ...
    write_video(curves, portrait, "talk.mp4", audio_path="clip.wav", size=512, fps=30,
                strip="talk.png", progress=print)

`render_frames` and `write_video` take `keep_expression=True` to keep the photo's own smile or
frown at rest (by default its fitted mouth corners' shapes are eased out), and
`expression_gain=` to scale the expression targets' fields (render.motion.EXPRESSION_TARGETS,
default EXPRESSION_GAIN); `write_video` also takes
`fps=` (resample, at most 60), `strip=` (a PNG of 8 head crops) and `force=`, and returns a
VideoResult (path, n_frames, fps, width, height, seconds, strip).

`portrait.py` reads and tracks the photo, `motion.py` carries the demo face's 52 target fields
onto its landmarks and poses them per frame, `warp.py` warps the photo by the landmark mesh,
`mouth.py` paints the mouth's inside, `video.py` draws the frames (with the demo face's wrinkle
maps) and encodes the MP4. Bad input raises emosync.errors.InputError with a one-line message.
"""
