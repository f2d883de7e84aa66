"""One growing binary buffer plus the bufferViews and accessors that point into it."""

from __future__ import annotations

import numpy as np
from pygltflib import GLTF2, Accessor, BufferView

ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963

_COMPONENT = {
    np.dtype(np.int8): 5120,
    np.dtype(np.uint8): 5121,
    np.dtype(np.int16): 5122,
    np.dtype(np.uint16): 5123,
    np.dtype(np.uint32): 5125,
    np.dtype(np.float32): 5126,
}
_TYPE = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 9: "MAT3", 16: "MAT4"}


class BufferBuilder:
    """Appends arrays to buffer 0 of `gltf`; `data` starts with whatever that buffer holds."""

    def __init__(self, gltf: GLTF2, data: bytes = b"") -> None:
        self.gltf = gltf
        self.data = bytearray(data)
        self.reserved = 0  # bytes of reserve_view regions after `data`, filled by the caller

    @property
    def size(self) -> int:
        """The buffer's length: its data and the reserved regions after it."""
        return len(self.data) + self.reserved

    def _pad(self, alignment: int = 4) -> None:
        self.data.extend(b"\0" * (-len(self.data) % alignment))

    def add_view(self, raw: bytes, target: int | None = None) -> int:
        """A bufferView over `raw` (4-byte aligned); returns its index."""
        if self.reserved:
            raise RuntimeError("data cannot follow a reserved bufferView")
        self._pad()
        view = BufferView(buffer=0, byteOffset=len(self.data), byteLength=len(raw), target=target)
        self.data.extend(raw)
        self.gltf.bufferViews.append(view)
        return len(self.gltf.bufferViews) - 1

    def add_accessor(
        self,
        array: np.ndarray,
        target: int | None = None,
        min_max: bool = False,
        normalized: bool = False,
    ) -> int:
        """An accessor over `array` [count] or [count, components]; returns its index."""
        array = np.ascontiguousarray(array)
        if array.dtype not in _COMPONENT:
            raise TypeError(f"no glTF component type for {array.dtype}")
        flat = array.reshape(len(array), -1)
        accessor = Accessor(
            bufferView=self.add_view(array.tobytes(), target),
            componentType=_COMPONENT[array.dtype],
            count=len(array),
            type=_TYPE[flat.shape[1]],
            normalized=True if normalized else None,
        )
        if min_max:
            cast = float if array.dtype.kind == "f" else int
            accessor.min = [cast(x) for x in flat.min(axis=0)]
            accessor.max = [cast(x) for x in flat.max(axis=0)]
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1

    def reserve_accessor(
        self,
        count: int,
        components: int,
        lo: list[float] | None = None,
        hi: list[float] | None = None,
    ) -> tuple[int, int]:
        """A float32 accessor of `count` × `components` whose bytes the caller writes later at
        the returned offset in the buffer (a clip written piece by piece); (accessor, offset).
        Reserved regions come after all data added with add_view."""
        if not self.reserved:
            self._pad()
        offset = self.size
        n_bytes = 4 * count * components
        view = BufferView(buffer=0, byteOffset=offset, byteLength=n_bytes)
        self.gltf.bufferViews.append(view)
        self.reserved += n_bytes
        accessor = Accessor(
            bufferView=len(self.gltf.bufferViews) - 1,
            componentType=_COMPONENT[np.dtype(np.float32)],
            count=count,
            type=_TYPE[components],
            normalized=None,
        )
        if lo is not None and hi is not None:
            accessor.min, accessor.max = lo, hi
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1, offset

    def finish(self) -> bytes:
        self._pad()
        return bytes(self.data)
