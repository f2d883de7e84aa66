"""Named groups of mediapipe face-mesh landmarks (its numbering; the demo face's first 468
vertices use it too). Right and left are the subject's: the right eye is on the image's left."""

from __future__ import annotations

LIP_INNER_UP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)  # corner to corner
LIP_INNER_LO = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIP_OUTER_UP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIP_OUTER_LO = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
EYE_R_UP = (33, 246, 161, 160, 159, 158, 157, 173, 133)  # outer corner to inner corner
EYE_R_LO = (33, 7, 163, 144, 145, 153, 154, 155, 133)
EYE_L_UP = (263, 466, 388, 387, 386, 385, 384, 398, 362)
EYE_L_LO = (263, 249, 390, 373, 374, 380, 381, 382, 362)
IRIS_R = (468, 469, 470, 471, 472)  # centre first (refined landmarks only)
IRIS_L = (473, 474, 475, 476, 477)
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
