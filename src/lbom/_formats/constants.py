"""Format constants in one place, each table naming its source.

A differential test (tests/differential/test_constants.py) compares these tables with the reference package
(`gguf`) so that drift is caught when llama.cpp adds or renumbers types.
"""

from __future__ import annotations

# --- GGUF -----------------------------------------------------------------------------------------------

GGUF_MAGIC = b"GGUF"
GGUF_DEFAULT_ALIGNMENT = 32

# Source: llama.cpp ggml/include/gguf.h / gguf-py/gguf/constants.py `GGUFValueType`.
GGUF_VALUE_TYPES: dict[int, str] = {
    0: "UINT8",
    1: "INT8",
    2: "UINT16",
    3: "INT16",
    4: "UINT32",
    5: "INT32",
    6: "FLOAT32",
    7: "BOOL",
    8: "STRING",
    9: "ARRAY",
    10: "UINT64",
    11: "INT64",
    12: "FLOAT64",
}

# struct format characters for the fixed-size value types (little-endian prefix added by the reader).
GGUF_SCALAR_FORMATS: dict[int, str] = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}

# `general.file_type` is a llama_ftype. Source: llama.cpp include/llama.h `enum llama_ftype` and
# gguf-py/gguf/constants.py `LlamaFileType` (names without the MOSTLY_ prefix, as users say them).
# 4, 5, 6 (Q4_1_SOME_F16, Q4_2, Q4_3) and 33-35 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) are retired.
LLAMA_FTYPE_NAMES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    1024: "GUESSED",
}

LLAMA_FTYPE_RETIRED: dict[int, str] = {
    4: "Q4_1_SOME_F16",
    5: "Q4_2",
    6: "Q4_3",
    33: "Q4_0_4_4",
    34: "Q4_0_4_8",
    35: "Q4_0_8_8",
}

# Tensor storage types are ggml_type, a different numbering. Source: llama.cpp ggml/include/ggml.h
# `enum ggml_type`, gguf-py/gguf/constants.py `GGMLQuantizationType` and `GGML_QUANT_SIZES`.
# Value: (name, block size in elements, bytes per block).
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

# When `general.file_type` is absent, the dominant tensor type names the quantization. These ggml types map
# onto the ftype a user would recognise; K-quant mixes (Q4_K_M vs Q4_K_S) cannot be told apart this way.
GGML_TYPE_TO_FTYPE_GUESS: dict[str, str] = {
    "F32": "F32",
    "F16": "F16",
    "BF16": "BF16",
    "Q4_0": "Q4_0",
    "Q4_1": "Q4_1",
    "Q5_0": "Q5_0",
    "Q5_1": "Q5_1",
    "Q8_0": "Q8_0",
    "Q2_K": "Q2_K",
    "Q3_K": "Q3_K",
    "Q4_K": "Q4_K",
    "Q5_K": "Q5_K",
    "Q6_K": "Q6_K",
    "IQ2_XXS": "IQ2_XXS",
    "IQ2_XS": "IQ2_XS",
    "IQ2_S": "IQ2_S",
    "IQ3_XXS": "IQ3_XXS",
    "IQ3_S": "IQ3_S",
    "IQ1_S": "IQ1_S",
    "IQ1_M": "IQ1_M",
    "IQ4_NL": "IQ4_NL",
    "IQ4_XS": "IQ4_XS",
    "TQ1_0": "TQ1_0",
    "TQ2_0": "TQ2_0",
    "MXFP4": "MXFP4",
}

# Pre-GGUF llama.cpp magics, as they appear in the first four bytes of the file (little-endian uint32 of
# 'ggml', 'ggmf', 'ggjt' written by the old C code, hence reversed). Source: llama.cpp history, llama.h.
LEGACY_GGML_MAGICS: dict[bytes, str] = {
    b"lmgg": "ggml (unversioned, pre-GGUF)",
    b"fmgg": "ggmf (pre-GGUF)",
    b"tjgg": "ggjt (pre-GGUF)",
    b"ggml": "ggml (pre-GGUF, big-endian)",
    b"ggmf": "ggmf (pre-GGUF, big-endian)",
    b"ggjt": "ggjt (pre-GGUF, big-endian)",
}

# --- safetensors ----------------------------------------------------------------------------------------

SAFETENSORS_MAX_HEADER = 100_000_000  # safetensors/src/tensor.rs MAX_HEADER_SIZE

# dtype -> size in bits. Source: huggingface/safetensors safetensors/src/tensor.rs `Dtype::bitsize` (0.8: the
# sub-byte F4/F6 types, F8_E8M0 and the FNUZ float8 variants; C64 is a complex of two 32-bit floats).
SAFETENSORS_DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
}

# --- PyTorch / pickle -----------------------------------------------------------------------------------

# Globals that torch.load(weights_only=True) accepts by default. Source: pytorch torch/_weights_only_unpickler.py
# `_get_allowed_globals` (collections, torch.Size/Tensor/device, dtypes, tensor and storage classes, rebuild
# functions, layouts, qschemes). Anything else in a checkpoint is reported.
_TORCH_DTYPE_NAMES = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
    "complex32",
    "complex64",
    "complex128",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bits16",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "int1",
    "int2",
    "int3",
    "int4",
    "int5",
    "int6",
    "int7",
    "uint1",
    "uint2",
    "uint3",
    "uint4",
    "uint5",
    "uint6",
    "uint7",
]
_TORCH_TENSOR_PREFIXES = ["BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"]
_TORCH_SPARSE_PREFIXES = ["BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"]
_TORCH_STORAGE_ONLY = ["ComplexDouble", "ComplexFloat", "QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8"]
_TORCH_REBUILD_FUNCTIONS = [
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_sparse_tensor",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_nested_tensor",
    "_rebuild_wrapper_subclass",
    "_rebuild_qtensor",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_device_tensor_from_cpu_tensor",
    "_rebuild_device_tensor_from_numpy",
]
_TORCH_QSCHEMES = [
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
]

TORCH_SAFE_GLOBALS: frozenset[str] = frozenset(
    [
        "collections.OrderedDict",
        "collections.Counter",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.set",
        "builtins.complex",
        "torch._tensor._rebuild_from_type_v2",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
    ]
    + [f"torch.{name}" for name in _TORCH_DTYPE_NAMES + _TORCH_QSCHEMES]
    + [f"torch.{ns}{p}{kind}" for ns in ("", "cuda.") for p in _TORCH_TENSOR_PREFIXES for kind in ("Tensor", "Storage")]
    + [f"torch.{ns}{p}Tensor" for ns in ("sparse.", "cuda.sparse.") for p in _TORCH_SPARSE_PREFIXES]
    + [f"torch.{p}Storage" for p in _TORCH_STORAGE_ONLY]
    + [f"torch.cuda.{p}Storage" for p in ("ComplexDouble", "ComplexFloat")]
    + [f"torch._utils.{name}" for name in _TORCH_REBUILD_FUNCTIONS]
)

# Globals that run code, reach the OS or load more pickles: a checkpoint importing one is critical.
# Sources: the Python docs' pickle security warning, picklescan's and modelscan's unsafe-globals lists, and the
# blocklist bypasses reported against them (picklescan issues #14, #66: getattr chains, operator, runpy, pip).
PICKLE_CRITICAL_MODULES: frozenset[str] = frozenset(
    [
        "os",
        "posix",
        "nt",
        "subprocess",
        "_posixsubprocess",
        "pty",
        "runpy",
        "importlib",
        "imp",
        "sys",
        "socket",
        "shutil",
        "ctypes",
        "code",
        "codeop",
        "commands",
        "popen2",
        "platform",
        "webbrowser",
        "pip",
        "setuptools",
        "multiprocessing",
        "asyncio",
        "pdb",
        "bdb",
        "timeit",
        "profile",
        "cProfile",
        "trace",
        "marshal",
        "types",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "joblib",
        "operator",
        "functools",
        "_operator",
        "numpy.testing",
        "torch.hub",
        "torch.jit",
        "torch.package",
        "builtins.__import__",
        "code.interact",
        "_thread",
        "threading",
        "signal",
        "http",
        "urllib",
        "urllib2",
        "requests",
        "ftplib",
        "smtplib",
        "telnetlib",
        "tempfile",
        "pathlib",
        "io",
        "_io",
        "glob",
        "zipimport",
    ]
)
PICKLE_CRITICAL_BUILTINS: frozenset[str] = frozenset(
    [
        "eval",
        "exec",
        "execfile",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "__import__",
        "open",
        "input",
        "breakpoint",
        "globals",
        "locals",
        "vars",
        "apply",
        "file",
        "reload",
        "help",
        "exit",
        "quit",
        "memoryview",
        "__build_class__",
        "__loader__",
        "__spec__",
        "super",
        "type",
        "classmethod",
        "staticmethod",
        "property",
    ]
)
PICKLE_BUILTIN_MODULES: frozenset[str] = frozenset({"builtins", "__builtin__", "__builtins__"})
# Plain data constructors: not on torch's allowlist, but they cannot run code by themselves.
PICKLE_DATA_GLOBALS: frozenset[str] = frozenset(
    [f"{module}.{name}" for module in ("builtins", "__builtin__")
     for name in ["dict", "list", "tuple", "str", "int", "float", "bool", "bytes", "slice", "range", "frozenset",
                  "object", "NoneType"]]
    + ["collections.defaultdict", "collections.deque", "argparse.Namespace", "datetime.datetime",
       "datetime.date", "datetime.timedelta", "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
       "numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
       "numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar", "copy_reg._reconstructor",
       "copyreg._reconstructor"]
)  # fmt: skip

# Globals that load another pickle from bytes the file carries (which this walk does not see): high.
PICKLE_NESTED_LOADERS: frozenset[str] = frozenset(
    ["torch.storage._load_from_bytes", "torch.load", "torch.serialization.load",
     "numpy.load", "numpy.lib.npyio.load", "pandas.read_pickle", "pandas.io.pickle.read_pickle"]
)  # fmt: skip

# torch storage class name -> dtype name (safetensors spelling). Source: torch/storage.py `_dtype_to_storage_type_map`.
TORCH_STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "F64",
    "FloatStorage": "F32",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ShortStorage": "I16",
    "CharStorage": "I8",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
    "ComplexFloatStorage": "C64",
    "ComplexDoubleStorage": "C128",
    "QInt8Storage": "QI8",
    "QUInt8Storage": "QU8",
    "QInt32Storage": "QI32",
    "QUInt4x2Storage": "QU4x2",
    "QUInt2x4Storage": "QU2x4",
}
# torch dtype attribute name -> dtype name, for _rebuild_tensor_v3 and UntypedStorage archives.
TORCH_DTYPES: dict[str, str] = {
    "float64": "F64", "double": "F64", "float32": "F32", "float": "F32", "float16": "F16", "half": "F16",
    "bfloat16": "BF16", "int64": "I64", "long": "I64", "int32": "I32", "int": "I32", "int16": "I16",
    "short": "I16", "int8": "I8", "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64",
    "bool": "BOOL", "complex64": "C64", "cfloat": "C64", "complex128": "C128", "cdouble": "C128",
    "complex32": "C32", "chalf": "C32", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
    "float8_e4m3fnuz": "F8_E4M3FNUZ", "float8_e5m2fnuz": "F8_E5M2FNUZ", "float8_e8m0fnu": "F8_E8M0",
}  # fmt: skip
DTYPE_ITEM_BYTES: dict[str, int] = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "U16": 2,
    "U32": 4, "U64": 8, "BOOL": 1, "C64": 8, "C128": 16, "C32": 4, "F8_E4M3": 1, "F8_E5M2": 1,
    "F8_E4M3FNUZ": 1, "F8_E5M2FNUZ": 1, "F8_E8M0": 1, "QI8": 1, "QU8": 1, "QI32": 4,
}  # fmt: skip

# --- ONNX -----------------------------------------------------------------------------------------------

# TensorProto.DataType -> dtype name (safetensors spelling where one exists). Source: onnx/onnx.proto
# `TensorProto.DataType`; tests/differential compares it with onnx.TensorProto.DataType.
ONNX_TENSOR_TYPES: dict[int, str] = {
    1: "F32",
    2: "U8",
    3: "I8",
    4: "U16",
    5: "I16",
    6: "I32",
    7: "I64",
    8: "STRING",
    9: "BOOL",
    10: "F16",
    11: "F64",
    12: "U32",
    13: "U64",
    14: "C64",
    15: "C128",
    16: "BF16",
    17: "F8_E4M3",
    18: "F8_E4M3FNUZ",
    19: "F8_E5M2",
    20: "F8_E5M2FNUZ",
    21: "U4",
    22: "I4",
    23: "F4_E2M1",
    24: "F8_E8M0",
    25: "U2",
    26: "I2",
    27: "F6_E2M3",
    28: "F6_E3M2",
}
