"""Read a FLAME model pickle without running anything it asks for.

A FLAME file is a Python 2 pickle written with chumpy: a dict of numpy arrays, chumpy `Ch`
objects holding arrays, and a scipy.sparse `J_regressor`. A pickle names the callables that
rebuild its objects, so an ordinary `pickle.load` would import and call whatever the file names.
`load_flame_pickle` uses an allow-list instead: numpy's array and dtype reconstructors, plus
stand-ins of our own for chumpy `Ch`, scipy.sparse CSC/CSR/COO matrices, `copyreg._reconstructor`
and `_codecs.encode` that only store or convert data. Every other name (os.system, builtins.eval,
subprocess.Popen, …) is refused before anything is imported or called: `RefusedPickle`.
Neither chumpy nor scipy is needed or imported.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

try:  # numpy >= 2 moved the reconstructors to numpy._core; older pickles name numpy.core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy < 2
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]


class RefusedPickle(pickle.UnpicklingError):
    """The pickle names something outside the allow-list; nothing it names was run."""


class ChumpyArray:
    """Stands in for chumpy.ch.Ch: keeps the pickled state; `array()` is its value `x`."""

    def __init__(self, *args: Any) -> None:
        self.state: Any = args[0] if args else None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def array(self) -> np.ndarray:
        state = self.state
        if isinstance(state, dict):
            for key in ("x", "_x", "a"):
                if isinstance(state.get(key), np.ndarray):
                    return state[key]
            arrays = [v for v in state.values() if isinstance(v, np.ndarray)]
            if len(arrays) == 1:
                return arrays[0]
        if isinstance(state, np.ndarray):
            return state
        raise ValueError("a chumpy object without an array value")


class SparseMatrix:
    """Stands in for scipy.sparse csc/csr/coo matrices: `dense()` rebuilds the matrix."""

    kind = "csc"

    def __init__(self, *args: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise ValueError("a sparse matrix without its arrays")
        self.state = state

    def dense(self) -> np.ndarray:
        s = self.state
        shape = tuple(int(n) for n in s.get("_shape", s.get("shape", ())))
        if len(shape) != 2:
            raise ValueError("a sparse matrix without a 2-D shape")
        out = np.zeros(shape, dtype=np.float64)
        data = np.asarray(s["data"], dtype=np.float64)
        if self.kind == "coo":
            rows, cols = np.asarray(s["row"]), np.asarray(s["col"])
            np.add.at(out, (rows, cols), data)
            return out
        indices, indptr = np.asarray(s["indices"]), np.asarray(s["indptr"])
        major = shape[1] if self.kind == "csc" else shape[0]
        if len(indptr) != major + 1 or indptr[-1] != len(data) or len(indices) != len(data):
            raise ValueError("a sparse matrix whose index arrays do not match")
        owner = np.repeat(np.arange(major), np.diff(indptr))
        if self.kind == "csc":
            np.add.at(out, (indices, owner), data)
        else:
            np.add.at(out, (owner, indices), data)
        return out


class _Csr(SparseMatrix):
    kind = "csr"


class _Coo(SparseMatrix):
    kind = "coo"


_STAND_INS = (ChumpyArray, SparseMatrix, _Csr, _Coo)


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """copyreg._reconstructor, for our stand-ins only (protocol 0/1 pickles of objects)."""
    if cls not in _STAND_INS or base is not object:
        raise RefusedPickle(f"copyreg._reconstructor of {getattr(cls, '__name__', cls)!r}")
    return cls()


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """_codecs.encode as Python 3 protocol-2 pickles use it: str → bytes through latin-1."""
    if not isinstance(text, str) or encoding.lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise RefusedPickle(f"_codecs.encode with {encoding!r}")
    return text.encode("latin-1")


_NUMPY = {name: getattr(_multiarray, name) for name in ("_reconstruct", "scalar")}
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("builtins", "object"): object,
    ("__builtin__", "object"): object,
    ("_codecs", "encode"): _latin1_encode,
    ("chumpy.ch", "Ch"): ChumpyArray,
    ("chumpy", "Ch"): ChumpyArray,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    for _name, _func in _NUMPY.items():
        _ALLOWED[(_module, _name)] = _func
for _module in ("scipy.sparse.csc", "scipy.sparse._csc"):
    _ALLOWED[(_module, "csc_matrix")] = SparseMatrix
    _ALLOWED[(_module, "csc_array")] = SparseMatrix
for _module in ("scipy.sparse.csr", "scipy.sparse._csr"):
    _ALLOWED[(_module, "csr_matrix")] = _Csr
    _ALLOWED[(_module, "csr_array")] = _Csr
for _module in ("scipy.sparse.coo", "scipy.sparse._coo"):
    _ALLOWED[(_module, "coo_matrix")] = _Coo
    _ALLOWED[(_module, "coo_array")] = _Coo


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RefusedPickle(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedPickle("a persistent id")


def plain(value: Any) -> Any:
    """Stand-ins turned into numpy arrays; anything else as it is."""
    if isinstance(value, ChumpyArray):
        return value.array()
    if isinstance(value, SparseMatrix):
        return value.dense()
    return value


def load_flame_pickle(path: str | Path) -> dict[str, Any]:
    """The top-level dict of a FLAME pickle, chumpy and sparse values as numpy arrays.

    Raises RefusedPickle when the file names anything outside the allow-list, and
    pickle.UnpicklingError / ValueError / EOFError for a file that is not a readable pickle."""
    with open(path, "rb") as f:
        data = _AllowListUnpickler(f, encoding="latin1").load()
    if not isinstance(data, dict):
        raise ValueError(f"the pickle holds a {type(data).__name__}, not a dict")
    return {str(key): plain(value) for key, value in data.items()}
