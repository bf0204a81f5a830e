"""The findings catalog: every rule id l-bom can emit, with a title, default severity, description and remedy.

Rule ids are stable: policies ignore them, SARIF lists them under ``tool.driver.rules``, dashboards count them.
A rule's *default* severity is what its check usually reports; a check may report a lower or higher severity for
a particular case (a trailing-bytes GGUF is low, a truncated one high). A test asserts that every rule id that
appears anywhere in ``src/`` has an entry here: adding a rule = adding a ``Rule`` line below.
"""

from __future__ import annotations

from lbom._records import dataclass
from lbom.model import Severity

_I, _L, _M, _H, _C = Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


@dataclass(frozen=True)
class Rule:
    """One kind of finding: what it means and what to do about it."""

    rule_id: str
    title: str
    severity: Severity
    description: str
    remedy: str

    @property
    def family(self) -> str:
        """The middle part of the id: ``GGUF`` for ``LBOM-GGUF-003``."""
        return self.rule_id.split("-")[1]


_RULES: tuple[Rule, ...] = (
    # --- scanning -------------------------------------------------------------------------------------------
    Rule(
        "LBOM-SCAN-001",
        "Entry skipped",
        _L,
        "A directory entry was not scanned: a dangling or looping symlink, a symlink to a directory, a FIFO, "
        "device or socket.",
        "Check the entry; l-bom never follows directory symlinks or opens non-regular files.",
    ),
    Rule(
        "LBOM-SCAN-002",
        "Unreadable file or directory",
        _M,
        "A file or directory could not be read or hashed (permission denied, I/O error).",
        "Fix the permissions or the storage and scan again.",
    ),
    Rule(
        "LBOM-SCAN-003",
        "Not a model file",
        _M,
        "The file has none of the magic bytes of a supported model format.",
        "Point l-bom at model files, or use --all to list non-model files on purpose.",
    ),
    Rule(
        "LBOM-SCAN-004",
        "Outside the allowed folders",
        _M,
        "A model file, sidecar or shard index under a scanned folder leads outside the folders a confined scan may "
        "read (the GUI's and the MCP server's roots), usually through a symlink; it was not opened.",
        "Start the GUI or MCP server with the link's target folder as a root to include it.",
    ),
    # --- GGUF reader ----------------------------------------------------------------------------------------
    Rule(
        "LBOM-GGUF-001",
        "Truncated GGUF header",
        _H,
        "The file ends (or a read comes up short) in the middle of the GGUF header or tensor table.",
        "The download is incomplete or the file was cut: download it again and compare its SHA-256.",
    ),
    Rule(
        "LBOM-GGUF-002",
        "GGUF value above a safety cap",
        _H,
        "A count or length in the header exceeds the bytes left in the file or a named limit; reading stopped.",
        "The header is corrupt or hostile; do not load this file.",
    ),
    Rule(
        "LBOM-GGUF-003",
        "Unknown GGUF value or tensor type",
        _H,
        "A metadata value type or ggml tensor type is not one the GGUF specification defines.",
        "The file is corrupt or from an unsupported newer llama.cpp; re-download or update l-bom.",
    ),
    Rule(
        "LBOM-GGUF-004",
        "Invalid UTF-8 in GGUF string",
        _L,
        "A metadata key or string value is not valid UTF-8; it was decoded with replacement characters.",
        "Check where the file came from; well-formed writers only emit UTF-8.",
    ),
    Rule(
        "LBOM-GGUF-005",
        "Duplicate GGUF metadata key",
        _M,
        "The same metadata key appears twice; readers disagree on which one wins.",
        "Rewrite the file with a single value per key (gguf-py's gguf_new_metadata.py).",
    ),
    Rule(
        "LBOM-GGUF-006",
        "Bad GGUF alignment",
        _H,
        "general.alignment is not a non-zero power of two, or a tensor offset is not aligned.",
        "The file is malformed; re-convert or re-download it.",
    ),
    Rule(
        "LBOM-GGUF-007",
        "Tensor beyond end of file",
        _H,
        "A tensor's byte extent runs past the end of the file.",
        "The file is truncated or its tensor table lies; re-download it.",
    ),
    Rule(
        "LBOM-GGUF-008",
        "Overlapping tensors",
        _H,
        "Two tensors claim overlapping bytes of the data section.",
        "The tensor table is corrupt or crafted; do not load this file.",
    ),
    Rule(
        "LBOM-GGUF-009",
        "Bad tensor shape",
        _H,
        "A tensor has too many dimensions or a first dimension that is not a multiple of its block size.",
        "The file is malformed; re-convert it with a current llama.cpp.",
    ),
    Rule(
        "LBOM-GGUF-010",
        "File size disagrees with GGUF tensor table",
        _L,
        "Bytes follow the last tensor that the tensor table does not account for.",
        "A well-formed GGUF ends at its last tensor (plus padding); find out where the extra bytes came from.",
    ),
    Rule(
        "LBOM-GGUF-011",
        "Unknown or retired file type",
        _M,
        "general.file_type is not a current llama_ftype value.",
        "Check the quantization with llama.cpp; re-quantize with a current version if needed.",
    ),
    Rule(
        "LBOM-GGUF-012",
        "Quantization inferred",
        _I,
        "general.file_type is absent; the quantization was inferred from the dominant tensor type.",
        "Nothing to do unless the inferred quantization is wrong; converters should write general.file_type.",
    ),
    Rule(
        "LBOM-GGUF-013",
        "Legacy or unsupported GGUF version",
        _M,
        "A pre-GGUF (ggml/ggmf/ggjt) file or GGUF version 1; only identity facts are reported.",
        "Convert the model to a current GGUF with llama.cpp's conversion scripts.",
    ),
    Rule(
        "LBOM-GGUF-014",
        "Vocabulary size disagrees with token list",
        _L,
        "{arch}.vocab_size differs from the number of entries in tokenizer.ggml.tokens.",
        "Check the conversion; the tokenizer and the embedding matrix may not match.",
    ),
    Rule(
        "LBOM-GGUF-015",
        "GGUF key has the wrong type",
        _M,
        "A well-known key (general.file_type, context length, ...) has a value of an unexpected type.",
        "Re-convert the model; the value was ignored.",
    ),
    Rule(
        "LBOM-GGUF-016",
        "Duplicate GGUF tensor name",
        _H,
        "Two entries of the tensor table share a name; loaders keep only one of them.",
        "The file is corrupt or crafted; re-convert or re-download it.",
    ),
    # --- safetensors reader ---------------------------------------------------------------------------------
    Rule(
        "LBOM-ST-001",
        "Truncated safetensors file",
        _H,
        "The file is too short for its 8-byte length prefix or for the header it announces.",
        "The download is incomplete; download it again and compare its SHA-256.",
    ),
    Rule(
        "LBOM-ST-002",
        "safetensors header too large",
        _H,
        "The announced JSON header is larger than the reference implementation accepts (100,000,000 bytes), or "
        "parsing it would exceed l-bom's JSON caps (Limits.max_json_header_bytes, max_json_memory).",
        "The file is corrupt or hostile; the reference loader refuses it.",
    ),
    Rule(
        "LBOM-ST-003",
        "safetensors header is not a JSON object",
        _H,
        "The header is not UTF-8 JSON, not an object, or an entry in it is not an object.",
        "The file is corrupt; download it again.",
    ),
    Rule(
        "LBOM-ST-004",
        "Duplicate key in safetensors header",
        _H,
        "The JSON header repeats a key, which the format forbids; parsers disagree on which one wins.",
        "Do not load this file; re-export it with the safetensors library.",
    ),
    Rule(
        "LBOM-ST-005",
        "Malformed __metadata__",
        _M,
        "__metadata__ must be a map of strings to strings.",
        "Re-export the file with the safetensors library.",
    ),
    Rule(
        "LBOM-ST-006",
        "Unknown safetensors dtype",
        _H,
        "A tensor's dtype is not one the safetensors format defines.",
        "The file is corrupt or from a newer writer; update l-bom or re-export the file.",
    ),
    Rule(
        "LBOM-ST-007",
        "Bad safetensors shape",
        _H,
        "A tensor's shape is not a list of non-negative integers, or its size overflows.",
        "The file is corrupt or crafted; do not load it.",
    ),
    Rule(
        "LBOM-ST-008",
        "Bad safetensors data offsets",
        _H,
        "Tensor data offsets must tile the data buffer from 0 without gaps or overlaps, each the size its "
        "dtype and shape imply.",
        "The file is corrupt or crafted; the reference loader rejects it.",
    ),
    Rule(
        "LBOM-ST-009",
        "safetensors file size disagrees with header",
        _H,
        "The data buffer is longer or shorter than the tensors the header declares.",
        "The file is truncated or altered; download it again.",
    ),
    Rule(
        "LBOM-ST-010",
        "Too many safetensors tensors",
        _M,
        "The header lists more tensors than l-bom checks in one file (Limits.max_tensor_count); only the first "
        "ones, by name, were checked.",
        "Real checkpoints hold a few thousand tensors per file; check where this file came from.",
    ),
    # --- pickle / PyTorch reader --------------------------------------------------------------------------
    Rule(
        "LBOM-PKL-001",
        "Malformed pickle",
        _M,
        "The pickle stream is not well formed; the opcode walk stopped or skipped part of it.",
        "Do not load the file; a loader might still run code from the part that was not checked.",
    ),
    Rule(
        "LBOM-PKL-002",
        "Pickle imports a global outside the allowlist",
        _H,
        "The pickle imports a global that is not on the weights-only allowlist (modelled on torch's weights_only "
        "unpickler); loading it runs whatever that global does.",
        "Load only with torch.load(weights_only=True), or convert the model to safetensors.",
    ),
    Rule(
        "LBOM-PKL-003",
        "Pickle imports a dangerous global",
        _C,
        "The pickle imports a global that runs code or reaches the system (os.system, builtins.eval/exec, "
        "subprocess, runpy, importlib, ...).",
        "Do not load this file. Get the model as safetensors from a trusted source.",
    ),
    Rule(
        "LBOM-PKL-004",
        "Pickle computes what it imports",
        _H,
        "The module or name of an imported global is computed at load time (STACK_GLOBAL from built strings, "
        "copyreg extension codes), a known bypass of blocklist scanners.",
        "Do not load this file.",
    ),
    Rule(
        "LBOM-PKL-005",
        "Pickle calls a computed object",
        _H,
        "The pickle calls something that is not an imported global (getattr chains, results of other calls).",
        "Do not load this file.",
    ),
    Rule(
        "LBOM-PKL-006",
        "Tensor storage disagrees with the archive",
        _H,
        "A tensor's storage is missing from the archive or shorter than the tensor needs.",
        "The checkpoint is truncated or altered; re-download it.",
    ),
    Rule(
        "LBOM-PKL-007",
        "TorchScript archive",
        _M,
        "The archive is TorchScript: it carries code that torch.jit.load compiles and runs.",
        "Treat it as code: load only from a trusted source, or use a safetensors export.",
    ),
    Rule(
        "LBOM-PKL-008",
        "Pickle only partly checked",
        _H,
        "The pickle is larger than the opcode or byte cap; only the first part was checked, and the rest may "
        "import and call anything.",
        "Treat the unchecked rest as untrusted; convert the model to safetensors.",
    ),
    # --- NumPy reader ---------------------------------------------------------------------------------------
    Rule(
        "LBOM-NPY-001",
        "Malformed .npy header",
        _H,
        "The .npy magic, version or header dictionary is missing, truncated, oversized or malformed.",
        "The file is corrupt or crafted; re-export it with numpy.save.",
    ),
    Rule(
        "LBOM-NPY-002",
        "NumPy object array (pickle)",
        _H,
        "The array has dtype object: its data is a pickle that numpy.load(allow_pickle=True) would run.",
        "Never load it with allow_pickle=True; re-export the array with a numeric dtype.",
    ),
    Rule(
        "LBOM-NPY-003",
        "NumPy data size disagrees with header",
        _H,
        "The bytes after the header do not match the shape and dtype the header declares.",
        "The file is truncated or altered; re-export or re-download it.",
    ),
    # --- ONNX reader ----------------------------------------------------------------------------------------
    Rule(
        "LBOM-ONNX-001",
        "Malformed ONNX model",
        _H,
        "The file is not a well-formed ONNX ModelProto, or has neither an ir_version nor a graph.",
        "The file is truncated, corrupted or not ONNX; re-export or re-download it.",
    ),
    Rule(
        "LBOM-ONNX-002",
        "ONNX external data escapes the model folder",
        _H,
        "An initializer's external data location is absolute or climbs out of the model's folder; a loader would "
        "read that file into the model.",
        "Do not load this model; external data must live next to it.",
    ),
    Rule(
        "LBOM-ONNX-003",
        "ONNX external data file missing",
        _M,
        "An initializer's external data file is not in the model's folder; the model cannot load.",
        "Copy the external data files next to the model (they are part of it).",
    ),
    Rule(
        "LBOM-ONNX-004",
        "ONNX initializer cap reached",
        _M,
        "The graph has more initializers than the cap; the rest were not read.",
        "Treat the unread part as unchecked.",
    ),
    Rule(
        "LBOM-ONNX-005",
        "ONNX custom operator domain",
        _L,
        "The graph uses operators from a custom domain, which need a runtime extension (native code) to load.",
        "Install the extension only from a source you trust.",
    ),
    # --- Keras reader ---------------------------------------------------------------------------------------
    Rule(
        "LBOM-KERAS-001",
        "Malformed Keras archive",
        _M,
        "The .keras archive lacks a readable config.json, or its JSON is malformed or too large.",
        "Re-save the model with Keras 3.",
    ),
    Rule(
        "LBOM-KERAS-002",
        "Keras Lambda layer",
        _H,
        "A Lambda layer stores Python bytecode that loading with safe_mode=False runs.",
        "Load with safe_mode=True (the default) or replace the Lambda with a registered layer.",
    ),
    Rule(
        "LBOM-KERAS-003",
        "Keras custom object",
        _M,
        "The model names a custom class; loading imports and runs its Python code.",
        "Load only with code you trust for this object.",
    ),
    # --- Git LFS pointers -----------------------------------------------------------------------------------
    Rule(
        "LBOM-LFS-001",
        "Git LFS pointer instead of weights",
        _H,
        "The file is a Git LFS pointer, not the model: the weights were never downloaded.",
        "Run git lfs pull (or download the file) before you ship or scan the model.",
    ),
    Rule(
        "LBOM-LFS-002",
        "Malformed Git LFS pointer",
        _M,
        "The file looks like a Git LFS pointer but is too long or lacks its oid/size lines.",
        "Re-create the pointer with git lfs, or replace it with the real file.",
    ),
    # --- zip archives (PyTorch, Keras, NumPy .npz) ----------------------------------------------------------
    Rule(
        "LBOM-ZIP-001",
        "Malformed zip archive",
        _H,
        "The zip archive has no readable central directory, or a member cannot be read.",
        "The file is corrupt or crafted; re-download it.",
    ),
    Rule(
        "LBOM-ZIP-002",
        "Too many zip members",
        _H,
        "The archive declares more members than the cap; it was not opened.",
        "The archive is crafted or not a model; do not extract it.",
    ),
    Rule(
        "LBOM-ZIP-003",
        "Zip decompression bomb",
        _H,
        "Members declare (or would decompress to) more bytes than the decompression budget.",
        "Do not extract the archive; it is likely a zip bomb.",
    ),
    Rule(
        "LBOM-ZIP-004",
        "Zip path traversal",
        _H,
        "A member name is absolute or contains '..': extracting it would write outside the target folder.",
        "Do not extract the archive with tools that trust member names.",
    ),
    Rule(
        "LBOM-ZIP-005",
        "Duplicate zip member",
        _M,
        "A member name appears more than once; tools disagree on which copy they read.",
        "Re-create the archive; do not trust either copy.",
    ),
    Rule(
        "LBOM-ZIP-006",
        "Overlapping zip members",
        _H,
        "Two members share compressed bytes, the overlapping-entry zip bomb technique.",
        "Do not extract the archive.",
    ),
    # --- remote header-only scans ---------------------------------------------------------------------------
    Rule(
        "LBOM-REMOTE-001",
        "Server ignored or mangled a Range request",
        _M,
        "The server answered a byte-range request with the wrong status or Content-Range; reading stopped.",
        "Scan from a server that supports HTTP range requests, or download the file and scan it locally.",
    ),
    Rule(
        "LBOM-REMOTE-002",
        "Short response body",
        _M,
        "The server sent fewer bytes than it announced; the header may be incomplete.",
        "Retry the scan; if it persists, download the file and scan it locally.",
    ),
    Rule(
        "LBOM-REMOTE-003",
        "Remote file changed during the scan",
        _H,
        "The file's size or ETag changed between requests; the facts may mix two versions.",
        "Scan again at a pinned revision.",
    ),
    Rule(
        "LBOM-REMOTE-004",
        "Remote byte cap reached",
        _M,
        "The header needed more bytes than a remote scan may fetch for one file; reading stopped.",
        "Raise the cap or download the file and scan it locally.",
    ),
    Rule(
        "LBOM-REMOTE-005",
        "Served bytes do not match the hub's SHA-256",
        _C,
        "The SHA-256 of the downloaded bytes differs from the LFS SHA-256 the hub lists: corrupted or tampered.",
        "Do not use the file; report it to the repository owner.",
    ),
    Rule(
        "LBOM-REMOTE-006",
        "Remote file not read",
        _M,
        "A remote file could not be fetched; it is missing from the document.",
        "Check the network, the URL and the access token, then scan again.",
    ),
    Rule(
        "LBOM-REMOTE-007",
        "Remote size disagrees with the listing",
        _M,
        "The server serves a different number of bytes than the repository listing says.",
        "Scan again at a pinned revision; the file may have changed.",
    ),
    Rule(
        "LBOM-REMOTE-008",
        "Remote shard set incomplete",
        _H,
        "A sharded model in the repository lacks some of its shards.",
        "The repository is incomplete; use a complete revision.",
    ),
    Rule(
        "LBOM-REMOTE-009",
        "Too many remote files",
        _M,
        "The repository lists more model files than a remote scan reads; only the first were read.",
        "Scan a narrower path inside the repository.",
    ),
    # --- reading and multi-file models --------------------------------------------------------------------
    Rule(
        "LBOM-READ-001",
        "File changed while it was read",
        _M,
        "The file's size or modification time changed between reading its header and hashing it; the facts and "
        "the digest may describe different contents.",
        "Scan again when nothing is writing to the file (finished downloads, no copy in progress).",
    ),
    Rule(
        "LBOM-SHARD-001",
        "Unreadable shard index",
        _H,
        "The sharded model's index (model.safetensors.index.json) is not valid JSON, has no weight_map, or maps "
        "a tensor to something that is not a file in the folder.",
        "Re-download the index; loaders cannot assemble the model without it.",
    ),
    Rule(
        "LBOM-SHARD-002",
        "Shard missing",
        _H,
        "A shard listed in the index is missing or not a readable model file.",
        "Download the missing shard (git lfs pull, or download the model again).",
    ),
    Rule(
        "LBOM-SHARD-003",
        "Shard not in the index",
        _M,
        "A file looks like a shard of the model but the index does not list it; loaders ignore it.",
        "Remove the stray file, or re-download the index that lists it.",
    ),
    Rule(
        "LBOM-SHARD-004",
        "Tensor missing from its shard",
        _H,
        "The index maps a tensor to a shard that does not contain it.",
        "The shards and the index do not match; re-download the model.",
    ),
    Rule(
        "LBOM-SHARD-005",
        "Tensor not in the index",
        _M,
        "A shard holds a tensor the index does not list; loaders following the index skip it.",
        "Re-download the model; the index and the shards are from different exports.",
    ),
    Rule(
        "LBOM-SHARD-006",
        "Tensor in several shards",
        _H,
        "The same tensor appears in more than one shard; which copy loads depends on the loader.",
        "Re-download the model; a shard may have been swapped.",
    ),
    Rule(
        "LBOM-SHARD-007",
        "Index total_size disagrees with the shards",
        _M,
        "The index's metadata.total_size differs from the bytes the shards' tensors take.",
        "Re-download the model; the shards and the index do not match.",
    ),
    Rule(
        "LBOM-SHARD-008",
        "Split GGUF part missing",
        _H,
        "A part of a split GGUF (name-0000N-of-0000M.gguf) is missing.",
        "Download every part; llama.cpp needs all of them.",
    ),
    Rule(
        "LBOM-SHARD-009",
        "Split GGUF numbering inconsistent",
        _M,
        "A split GGUF part's split.no/split.count/split.tensors.count disagree with its name or the other parts.",
        "Re-download the parts; they may come from different splits.",
    ),
    # --- sidecars -------------------------------------------------------------------------------------------
    Rule(
        "LBOM-SIDECAR-001",
        "Unreadable sidecar file",
        _L,
        "config.json, tokenizer_config.json or the README.md model card could not be read or parsed.",
        "Fix or remove the file; facts from it are missing from the SBOM.",
    ),
    Rule(
        "LBOM-SIDECAR-002",
        "Sidecar disagrees with the model file",
        _L,
        "A fact (architecture, context length, vocabulary size) differs between the model file and a sidecar.",
        "The model file's value is reported; check which one is right.",
    ),
    # --- name/content checks --------------------------------------------------------------------------------
    Rule(
        "LBOM-TEXT-001",
        "Control characters in an identity fact",
        _M,
        "The model's name, architecture, license, quantization or base model contains terminal control or "
        "bidirectional characters: a value crafted to mislead whoever reads the header raw.",
        "Check where the file came from; l-bom shows the value escaped.",
    ),
    Rule(
        "LBOM-NAME-001",
        "File name claims another quantization",
        _M,
        "The file name names a quantization (Q4_K_M, Q8_0, IQ4_XS, F16, ...) that the header contradicts: a "
        "swapped or mislabelled file.",
        "Check which file this really is; rename it or replace it with the file you meant to ship.",
    ),
    Rule(
        "LBOM-NAME-002",
        "File name claims another model size",
        _M,
        "The file name names a parameter count (8B, 135M, ...) far from the count in the tensor table.",
        "Check which model this really is; rename it or replace it with the file you meant to ship.",
    ),
    Rule(
        "LBOM-NAME-003",
        "File name claims another architecture",
        _M,
        "The file name names a model family (llama, qwen, gemma, ...) that the header's architecture contradicts.",
        "Check which model this really is; rename it or replace it with the file you meant to ship.",
    ),
    Rule(
        "LBOM-NAME-004",
        "general.size_label far from the parameter count",
        _L,
        "The header's own size label disagrees with the sum of the tensor elements.",
        "The metadata was copied from another model or edited; fix general.size_label or re-convert.",
    ),
    Rule(
        "LBOM-SIZE-001",
        "File size far from what the tensor table implies",
        _M,
        "The file is much larger or smaller than its header and tensor data require: appended payload, "
        "truncation, or a header that lies.",
        "Compare the file with its published SHA-256 and re-download it.",
    ),
    # --- chat templates -------------------------------------------------------------------------------------
    Rule(
        "LBOM-TPL-001",
        "Chat template does not parse",
        _M,
        "The chat template is not valid Jinja, so inference servers reject it or fall back to another format.",
        "Replace the template with the model publisher's original.",
    ),
    Rule(
        "LBOM-TPL-002",
        "Chat template reaches for Python internals",
        _C,
        "The template accesses dunder or frame attributes (__class__, __globals__, __subclasses__, mro, ...), "
        "the classic Jinja server-side template injection route to code execution.",
        "Do not use this model with any server that renders its template; replace the template.",
    ),
    Rule(
        "LBOM-TPL-003",
        "Chat template uses objects that escape the sandbox",
        _H,
        "The template touches globals that have no business in a chat template (self, lipsum, config, request, "
        "url_for, attribute access on cycler/joiner/namespace/range, attr() with a computed name).",
        "Replace the template with the model publisher's original.",
    ),
    Rule(
        "LBOM-TPL-004",
        "Hidden Unicode in chat template",
        _H,
        "The template contains invisible characters (bidi controls, zero-width characters, Unicode tag "
        "characters) that can hide instructions from reviewers.",
        "Inspect the template with the code points shown; replace it with a clean one.",
    ),
    Rule(
        "LBOM-TPL-005",
        "Chat template injects fixed instructions",
        _M,
        "The template writes natural-language text into every prompt regardless of the conversation: "
        "instructions the user never sees.",
        "Read the injected text; if you did not expect it, replace the template.",
    ),
    Rule(
        "LBOM-TPL-006",
        "Chat template too large to analyse",
        _L,
        "The template is larger than l-bom analyses; real chat templates are a few kilobytes.",
        "Inspect the template by hand.",
    ),
    Rule(
        "LBOM-TPL-007",
        "Chat template can exhaust resources",
        _M,
        "The template builds huge ranges or repeats strings many times, which can stall the inference server.",
        "Replace the template with the model publisher's original.",
    ),
    Rule(
        "LBOM-TPL-008",
        "Chat template loads other templates",
        _M,
        "The template uses include, import or extends; a chat template is self-contained.",
        "Replace the template with the model publisher's original.",
    ),
    # --- licenses -------------------------------------------------------------------------------------------
    Rule(
        "LBOM-LIC-001",
        "No license",
        _L,
        "Neither the model file nor its model card states a license.",
        "Find the license on the model's source page and record it (model card `license:` or general.license).",
    ),
    Rule(
        "LBOM-LIC-002",
        "License differs between sources",
        _M,
        "The model file, its sidecars and its model card state different licenses.",
        "Find out which license applies before you ship the model; fix the wrong one.",
    ),
    # --- model stores (Hugging Face cache, Ollama, LM Studio, llama.cpp) --------------------------------------
    Rule(
        "LBOM-STORE-001",
        "Content does not match its content address",
        _C,
        "A Hugging Face LFS blob or an Ollama blob is named by the SHA-256 of its content, and the file l-bom "
        "hashed has a different SHA-256: it was corrupted or tampered with.",
        "Do not use the file; delete the blob and download the model again from its source.",
    ),
    Rule(
        "LBOM-STORE-002",
        "Half-downloaded blob",
        _L,
        "A blob in a store is an unfinished download (Hugging Face `*.incomplete`, Ollama `sha256-*-partial*`); "
        "it was not scanned.",
        "Finish or restart the download; remove the partial file if the download was abandoned.",
    ),
    Rule(
        "LBOM-STORE-003",
        "Unreadable Ollama manifest",
        _M,
        "An Ollama manifest is not JSON, has no valid layers, is too large or is not where manifests live; the "
        "model it describes could not be named.",
        "Re-pull the model with `ollama pull`, or remove the broken manifest.",
    ),
    Rule(
        "LBOM-STORE-004",
        "Manifest points at a missing blob",
        _M,
        "An Ollama manifest lists a layer whose blob is not in the store.",
        "Re-pull the model with `ollama pull`.",
    ),
    Rule(
        "LBOM-STORE-005",
        "Blob size differs from its manifest",
        _H,
        "An Ollama blob's size is not the size its manifest records: it is truncated or was replaced.",
        "Re-pull the model with `ollama pull`.",
    ),
    Rule(
        "LBOM-STORE-006",
        "Store layer truncated",
        _L,
        "An Ollama template, params, license or system layer is larger than l-bom reads; only its start was used.",
        "Check the layer by hand; such layers are normally a few KiB.",
    ),
    Rule(
        "LBOM-STORE-007",
        "Unreadable store folder",
        _M,
        "A folder inside a model store could not be listed; the rest of the store was scanned.",
        "Check the folder's permissions.",
    ),
    # --- policy (l-bom check) -------------------------------------------------------------------------------
    Rule(
        "LBOM-POLICY-001",
        "Format not allowed by policy",
        _H,
        "The model's format is denied, or not in the allowed list, of the policy's [formats] table.",
        "Convert the model to an allowed format (e.g. safetensors or GGUF) or change the policy.",
    ),
    Rule(
        "LBOM-POLICY-002",
        "License not allowed by policy",
        _H,
        "The model's license is denied, or not in the allowed list, of the policy's [licenses] table.",
        "Get legal approval and add the license to the policy, or use another model.",
    ),
    Rule(
        "LBOM-POLICY-003",
        "Required field missing",
        _H,
        "The policy's [require] fields lists a fact this model does not have (e.g. sha256, license).",
        "Scan with hashing enabled, or add the missing fact to the model card.",
    ),
)

RULES: dict[str, Rule] = {rule.rule_id: rule for rule in _RULES}
"""Every known rule, by id, in catalog order."""


def rule(rule_id: str) -> Rule | None:
    """The catalog entry for ``rule_id``, or ``None`` for an id this version does not know."""
    return RULES.get(rule_id)


def catalog() -> tuple[Rule, ...]:
    """All rules, in catalog order (families grouped, ids ascending within a family)."""
    return _RULES


def catalog_markdown() -> str:
    """The catalog as a Markdown table (for docs: ``l-bom rules --format markdown``)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Rule | Severity | Title | What it means | What to do |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| `{r.rule_id}` | {r.severity.value} | {cell(r.title)} | {cell(r.description)} | {cell(r.remedy)} |"
        for r in _RULES
    ]
    return "\n".join(lines) + "\n"
