"""A tiny llama-architecture model in GGUF, written here: random weights, a vocabulary of
byte tokens and a few words, a ChatML chat template. No hub, no download.

It talks nonsense, which is all the real-server tests need: they check the protocol of a
real llama.cpp server, not what a model says. Needs the `gguf` package (and numpy, which
it brings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORDS = ("the", "a", "model", "server", "binary", "search", "Lima", "is", "of", "and", "in", "code", "to")
EMBEDDING = 64
HEADS = 4
FEED_FORWARD = 128
CONTEXT = 512


def write_tiny_llama(path: Path, seed: int = 7) -> Path:
    """Write the model to `path` (about 330 kB) and return it."""
    import gguf  # the real-server tests import this module only when the package is there
    import numpy as np

    tokens, scores, kinds = _vocabulary(gguf.TokenType)
    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> Any:  # a float32 array
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(EMBEDDING)
    writer.add_block_count(1)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(EMBEDDING // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(kinds)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHATML)

    vocabulary = len(tokens)
    # numpy shapes are (rows, columns); GGUF stores them the other way round, as ggml wants.
    writer.add_tensor("token_embd.weight", weights(vocabulary, EMBEDDING))
    writer.add_tensor("output_norm.weight", np.ones(EMBEDDING, dtype=np.float32))
    writer.add_tensor("output.weight", weights(vocabulary, EMBEDDING))
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(EMBEDDING, dtype=np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        writer.add_tensor(f"blk.0.{name}.weight", weights(EMBEDDING, EMBEDDING))
    writer.add_tensor("blk.0.ffn_norm.weight", np.ones(EMBEDDING, dtype=np.float32))
    writer.add_tensor("blk.0.ffn_gate.weight", weights(FEED_FORWARD, EMBEDDING))
    writer.add_tensor("blk.0.ffn_up.weight", weights(FEED_FORWARD, EMBEDDING))
    writer.add_tensor("blk.0.ffn_down.weight", weights(EMBEDDING, FEED_FORWARD))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _vocabulary(kind: Any) -> tuple[list[str], list[float], list[int]]:
    """SentencePiece-style: specials, the 256 byte tokens (so any text can be read), words.
    `kind` is gguf's TokenType."""
    control, normal = kind.CONTROL, kind.NORMAL
    tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    kinds = [kind.UNKNOWN, control, control, control, control]
    tokens += [f"<0x{byte:02X}>" for byte in range(256)]
    kinds += [kind.BYTE] * 256
    pieces = ["▁", *(f"▁{word}" for word in WORDS), *"abcdefghijklmnopqrstuvwxyz.,"]
    tokens += pieces
    kinds += [normal] * len(pieces)
    scores = [0.0] * (len(tokens) - len(pieces)) + [-float(rank) for rank in range(len(pieces))]
    return tokens, scores, [int(k) for k in kinds]
