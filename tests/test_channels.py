import pytest

from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, canonical_name, pascal


def test_schema_sizes_and_order():
    assert len(ARKIT_NAMES) == 52 and len(set(ARKIT_NAMES)) == 52
    assert CHANNELS[:52] == ARKIT_NAMES and CHANNELS[52] == "headYaw"
    assert ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[-1] == "tongueOut"
    # Live Link Face CSV order, not Apple's: the two swapped pairs
    assert ARKIT_NAMES[14:19] == ("jawForward", "jawRight", "jawLeft", "jawOpen", "mouthClose")
    assert ARKIT_NAMES[21:23] == ("mouthRight", "mouthLeft")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("eyeBlinkLeft", "eyeBlinkLeft"),
        ("EyeBlinkLeft", "eyeBlinkLeft"),
        ("ARKit_jawOpen", "jawOpen"),
        ("A01_BrowInnerUp", "browInnerUp"),
        ("blendShape.mouthSmileLeft", "mouthSmileLeft"),
        ("mouth_smile_left", "mouthSmileLeft"),
        ("HeadYaw", "headYaw"),
        ("viseme_aa", None),
        ("Basis", None),
    ],
)
def test_canonical_name(spelling, expected):
    assert canonical_name(spelling) == expected


def test_pascal():
    assert pascal("eyeBlinkLeft") == "EyeBlinkLeft"
