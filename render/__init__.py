"""A talking portrait from one photo, driven by the same FaceCurves as the 3D path.

    from emosync.render.portrait import load_portrait
    from emosync.render.video import render_frames, write_video

    portrait = load_portrait("face.jpg")  # or an RGB uint8 array; tracked once
    for frame in render_frames(curves, portrait, size=512):  # RGB uint8 at curves.fps
        ...
    write_video(curves, portrait, "talk.mp4", audio_path="clip.wav", size=512, fps=30,
                strip="talk.png", progress=print)

`portrait.py` reads and tracks the photo, `motion.py` carries the demo face's 52 target fields
onto its landmarks and poses them per frame, `warp.py` warps the photo by the landmark mesh,
`mouth.py` paints the mouth's inside, `video.py` draws the frames and encodes the MP4.
Bad input raises emosync.errors.InputError with a one-line message.
"""
