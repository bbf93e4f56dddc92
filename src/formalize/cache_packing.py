"""How the store keeps its cache values: zlib with a preset dictionary.

The cache holds model answers and Lean check results as JSON: small values whose keys and
boilerplate (engine provenance, message fields) repeat in every row. zlib alone gains little on
a 250-byte value; primed with a dictionary of those repeated strings it stores about 40% of the
text (measured on a run's cache: answers 803 -> 162 bytes, checks 250 -> 101).

A packed value is a BLOB: one version byte, then the zlib stream made with that version's
dictionary. Text values (stores written before packing) are read as they are. A content key
(``kind:<sha256 hex>``, ``formalize.cache.content_key``) is stored as its 32-byte digest (the
kind has its own column): half the bytes, in the table and again in its unique index.
"""

from __future__ import annotations

import re
import zlib

# Never edit a released dictionary: the values packed with it must stay readable. Add a version.
_DICTIONARIES: dict[int, bytes] = {
    1: (
        b'<think></think>```json\n{"reasons": "", "is_assistant_correct": "Correct"}\n```'
        b'"is_assistant_correct": "Incorrect"'
        b'[{"text": "```lean4\\nimport Mathlib\\n\\ntheorem  (x : \\u2115) (h : ) : := by sorry'
        b'\\n```", "finish_reason": "stop", "prompt_tokens": null, "completion_tokens": null, '
        b'"reasoning": null, "provenance": {"engine": "vllm", "spec": "openai:", "model": "", '
        b'"revision": null, "profile": "generic", "params": {"n": 1, "temperature": 0.0, '
        b'"top_p": 1.0, "max_tokens": 1024, "stop": [], "seed": 0}}, "cached": false}, '
        b'{"elapsed_s":0.0,"messages":[{"column":0,"end_column":0,"end_line":1,"line":1,'
        b'"severity":"error","text":"unknown identifier \'"},{"column":8,"end_column":20,'
        b'"end_line":1,"line":1,"severity":"warning","text":"declaration uses \'sorry\'"}],'
        b'"reason":null,"status":"lean_error","status":"ok","toolchain":"leanprover/lean4:v4.'
    ),
}
CURRENT = 1


_CONTENT_KEY = re.compile(r"[a-z][a-z0-9_-]*:([0-9a-f]{64})")


def stored_key(key: str) -> str | bytes:
    """What the cache's ``key`` column holds for ``key``: a content key's digest as bytes, any
    other key as it is. (Two content keys share a digest only if sha256 collides: the digest
    is taken over the kind too.)"""
    found = _CONTENT_KEY.fullmatch(key)
    return bytes.fromhex(found.group(1)) if found else key


def pack(text: str) -> bytes:
    """``text`` compressed with the current dictionary, behind its version byte."""
    packer = zlib.compressobj(9, zdict=_DICTIONARIES[CURRENT])
    return bytes([CURRENT]) + packer.compress(text.encode("utf-8")) + packer.flush()


def unpack(value: str | bytes) -> str:
    """The text of a stored value (packed or, from an older store, plain text)."""
    if isinstance(value, str):
        return value
    dictionary = _DICTIONARIES.get(value[0])
    if dictionary is None:
        raise ValueError(f"cache value packed with unknown version {value[0]}")
    unpacker = zlib.decompressobj(zdict=dictionary)
    return (unpacker.decompress(value[1:]) + unpacker.flush()).decode("utf-8")
