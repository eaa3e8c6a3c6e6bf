"""Protobuf wire bytes straight from proto3 JSON, compiled from the official descriptors.

``json_format.ParseDict`` and ``SerializeToString`` cost ~75 µs for one Task (the JSON
mapping is pure Python), so a binary ListTasks page of 25 tasks took ~1.7 ms against
~40 µs in JSON. This encoder walks the dict once per message with a plan built from the
descriptor at start-up (field number, wire type, how to write the value), and remembers
the bytes of each message whose dict the domain shares: a rendered task is one immutable
dict until the task changes (:func:`mockserver.domain.tasks.task_json`), so a page of
tasks read before is mostly a join of cached bytes.

It follows ``ParseDict(..., ignore_unknown_fields=True)`` on the dicts the domain writes
(JSON field names): unknown keys and unknown enum names are dropped, ``null`` means
absent, int64 may be a string, and a field without presence at its default value is not
written. Fields are written in the dict's order, which parsers accept (so the bytes may differ
from ``SerializeToString``'s); the tests check that they decode, with the official
classes, to exactly what ``json_format`` makes of the same dict.
"""

from __future__ import annotations

import base64
import calendar
import keyword
import math
import re
import struct
from collections.abc import Callable, Collection, Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from mockserver.http.render_cache import RenderCache

__all__ = [
    "MessageDecoder",
    "MessageEncoder",
    "decoder_for",
    "duration_body",
    "encoder_for",
    "timestamp_body",
    "varint",
]

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_SMALL = [bytes([n]) for n in range(128)]
_TIMESTAMPS_KEPT = 100_000  # timestamp strings whose bodies are remembered

# Writes one field (tag included) for a value that is not None.
Emit = Callable[[Any, list[bytes]], None]


def varint(value: int) -> bytes:
    """Base-128 varint; a negative value is written as its 64-bit two's complement."""
    if value < 0:
        value += 1 << 64
    if value < 0x80:
        return _SMALL[value]
    if value < 0x4000:  # the length of most messages (a task is ~300 bytes)
        return bytes((value & 0x7F | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


# How MessageEncoder.encode writes a field: the two commonest kinds inline, the rest
# through the field's emit function. The compiled encoder (MessageEncoder.compile) also
# writes a few more kinds inline: a string with presence (written even when empty), a
# Timestamp or Duration, an enum without presence.
_PLAIN_STRING, _SINGLE_MESSAGE, _OTHER = 0, 1, 2
_PRESENT_STRING, _WELL_KNOWN, _ENUM = 3, 4, 5


class MessageEncoder:
    """Encodes the proto3-JSON dicts of one message type."""

    def __init__(self, descriptor: Descriptor, shared: bool) -> None:
        self.descriptor = descriptor
        # json name -> (kind, tag, helper, emit); filled in by encoder_for. The helper is
        # what the kind needs: the sub-encoder of a message, the body function of a
        # Timestamp or Duration, the numbers of an enum's names; else None.
        self.fields: dict[str, tuple[int, bytes, Any, Emit]] = {}
        # For shared types: a rendering -> its length-prefixed bytes and where its body
        # starts in them (a shared message is nearly always a field of another, so only
        # the prefixed bytes are kept: half the memory of keeping both).
        self._cache: RenderCache[tuple[bytes, int]] | None = RenderCache() if shared else None
        self._lookup = None if self._cache is None else self._cache.lookup

    def encode(self, data: Mapping[str, Any]) -> bytes:
        cache = self._cache
        if cache is not None:
            hit = cache.get(data)
            if hit is None:
                hit = self._encode_kept(data)
            prefixed, start = hit
            return prefixed[start:]
        return self._write(data)

    def encode_prefixed(self, data: Mapping[str, Any]) -> bytes:
        """The length-prefixed bytes, as a message field holds them (cached alike)."""
        lookup = self._lookup
        if lookup is not None:
            entry = lookup(id(data))
            if entry is not None and entry() is data:
                prefixed: bytes = entry.value[0]
                return prefixed
            return self._encode_kept(data)[0]
        return _length_prefixed(self._write(data))

    def _encode_kept(self, data: Mapping[str, Any]) -> tuple[bytes, int]:
        body = self._write(data)
        prefixed = _length_prefixed(body)
        kept = (prefixed, len(prefixed) - len(body))
        assert self._cache is not None
        self._cache.put(data, kept, len(prefixed))
        return kept

    def _write(self, data: Mapping[str, Any]) -> bytes:
        """The message's bytes, by the plan in ``fields``; :meth:`compile` replaces it with
        the same steps written out for this message type."""
        out: list[bytes] = []
        append = out.append
        fields = self.fields
        # The dict's keys, not every field of the message: a message has many fields and
        # a dict few of them. Fields come out in the dict's order, which parsers accept.
        for json_name, value in data.items():
            plan = fields.get(json_name)
            if plan is None or value is None:
                continue  # an unknown key, or null: absent
            kind, tag, sub, emit = plan
            if kind == _PLAIN_STRING:
                if value:
                    payload = value.encode("utf-8")
                    size = len(payload)
                    append(tag)
                    append(_SMALL[size] if size < 0x80 else varint(size))
                    append(payload)
            elif kind == _SINGLE_MESSAGE:
                payload = sub.encode(value)
                size = len(payload)
                append(tag)
                append(_SMALL[size] if size < 0x80 else varint(size))
                append(payload)
            else:
                emit(value, out)
        return b"".join(out)

    def compile(self) -> None:
        """Replace :meth:`_write` by a function written for this message type.

        The same steps as the generic loop, with each field's branch inline and its tag,
        encoder and emitter bound as constants. A new task's encoding (CreateTask in
        binary) follows far fewer pointers: with the caches a server leaves cold, the
        generic loop cost more than the rest of the binary codec together.
        """
        namespace: dict[str, Any] = {"SMALL": _SMALL, "varint": varint}
        lines = [
            "def write(data):",
            "    out = []",
            "    append = out.append",
            "    for key, value in data.items():",
            "        if value is None:",
            "            continue",
        ]
        keyword = "if"
        for number, (json_name, (kind, tag, sub, emit)) in enumerate(self.fields.items()):
            namespace[f"T{number}"] = tag
            lines.append(f"        {keyword} key == {json_name!r}:")
            keyword = "elif"
            if kind == _PLAIN_STRING:
                lines += [
                    "            if value:",
                    "                payload = value.encode('utf-8')",
                    "                size = len(payload)",
                    f"                append(T{number})",
                    "                append(SMALL[size] if size < 0x80 else varint(size))",
                    "                append(payload)",
                ]
            elif kind == _PRESENT_STRING:
                lines += [
                    "            payload = value.encode('utf-8')",
                    "            size = len(payload)",
                    f"            append(T{number})",
                    "            append(SMALL[size] if size < 0x80 else varint(size))",
                    "            append(payload)",
                ]
            elif kind in (_SINGLE_MESSAGE, _WELL_KNOWN):
                namespace[f"S{number}"] = sub.encode if kind == _SINGLE_MESSAGE else sub
                lines += [
                    f"            payload = S{number}(value)",
                    "            size = len(payload)",
                    f"            append(T{number})",
                    "            append(SMALL[size] if size < 0x80 else varint(size))",
                    "            append(payload)",
                ]
            elif kind == _ENUM:
                # As _enum: a name by its number (an unknown one is 0, so dropped), else
                # the number itself; 0 is the default, not written.
                namespace[f"N{number}"] = sub
                lines += [
                    f"            code = N{number}.get(value, 0)"
                    " if isinstance(value, str) else int(value)",
                    "            if code:",
                    f"                append(T{number})",
                    "                append(SMALL[code] if 0 < code < 0x80 else varint(code))",
                ]
            else:
                namespace[f"E{number}"] = emit
                lines.append(f"            E{number}(value, out)")
        lines.append("    return b''.join(out)")
        exec("\n".join(lines), namespace)  # the source is built from the descriptors only
        self._write = namespace["write"]  # type: ignore[method-assign]
        if self._cache is None:
            # Without a cache, encoding is writing: a message field of this type then costs
            # one call, not three (``encode``, ``_encode``, ``_write``). Encoders compiled
            # after this one (those of the messages holding it) bind this function.
            self.encode = self._write  # type: ignore[method-assign]


def encoder_for(
    descriptor: Descriptor,
    shared: Collection[str] = (),
    encoders: dict[str, MessageEncoder] | None = None,
) -> MessageEncoder:
    """The encoder of ``descriptor``'s messages; dicts of the message types named in
    ``shared`` (full names) are never changed by their owner, so their bytes are cached.

    ``encoders`` (full name -> encoder) is shared by calls that should share encoders,
    and so their caches: a task read by GetTask is then cached for ListTasks too."""
    if encoders is None:
        encoders = {}

    def build(message: Descriptor) -> MessageEncoder:
        found = encoders.get(message.full_name)
        if found is not None:
            return found
        encoder = encoders[message.full_name] = MessageEncoder(message, message.full_name in shared)
        for field in sorted(message.fields, key=lambda f: f.number):
            kind, wire_type = _OTHER, _LEN
            helper: Any = None
            single = field.label != FieldDescriptor.LABEL_REPEATED
            well_known = _WELL_KNOWN_BODIES.get(
                field.message_type.full_name if field.message_type is not None else ""
            )
            if single and field.type == FieldDescriptor.TYPE_STRING:
                kind = _PRESENT_STRING if field.has_presence else _PLAIN_STRING
            elif single and well_known is not None:
                kind, helper = _WELL_KNOWN, well_known
            elif (
                single
                and field.type == FieldDescriptor.TYPE_MESSAGE
                and not field.message_type.full_name.startswith("google.protobuf.")
            ):
                kind, helper = _SINGLE_MESSAGE, build(field.message_type)
            elif single and field.type == FieldDescriptor.TYPE_ENUM and not field.has_presence:
                kind, wire_type = _ENUM, _VARINT
                helper = {value.name: value.number for value in field.enum_type.values}
            tag = _tag(field.number, wire_type)
            encoder.fields[field.json_name] = (kind, tag, helper, _emitter(field, build))
        encoder.compile()
        return encoder

    return build(descriptor)


def _emitter(field: FieldDescriptor, build: Callable[[Descriptor], MessageEncoder]) -> Emit:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_emitter(field, build)
    write, wire_type, is_default = _writer(field, build)
    tag = _tag(field.number, wire_type)
    if field.label == FieldDescriptor.LABEL_REPEATED:

        def emit_repeated(value: Any, out: list[bytes]) -> None:
            for item in value:
                if item is not None:
                    out.append(tag)
                    out.append(write(item))

        return emit_repeated
    if is_default is not None and not field.has_presence:

        def emit_unless_default(value: Any, out: list[bytes]) -> None:
            if not is_default(value):
                out.append(tag)
                out.append(write(value))

        return emit_unless_default

    def emit(value: Any, out: list[bytes]) -> None:
        out.append(tag)
        out.append(write(value))

    return emit


def _map_emitter(field: FieldDescriptor, build: Callable[[Descriptor], MessageEncoder]) -> Emit:
    entry_fields = field.message_type.fields_by_number
    key_field, value_field = entry_fields[1], entry_fields[2]
    write_key, key_wire, _ = _writer(key_field, build)
    write_value, value_wire, _ = _writer(value_field, build)
    tag = _tag(field.number, _LEN)
    key_tag, value_tag = _tag(1, key_wire), _tag(2, value_wire)
    parse_key = _map_key_parser(key_field)

    def emit_map(value: Any, out: list[bytes]) -> None:
        for key, item in value.items():
            if item is None:
                continue
            entry = key_tag + write_key(parse_key(key)) + value_tag + write_value(item)
            out.append(tag)
            out.append(varint(len(entry)) + entry)

    return emit_map


def _map_key_parser(field: FieldDescriptor) -> Callable[[Any], Any]:
    if field.type == FieldDescriptor.TYPE_BOOL:
        return lambda key: key in (True, "true")
    if field.type == FieldDescriptor.TYPE_STRING:
        return lambda key: key
    return int


Writer = Callable[[Any], bytes]


def _writer(
    field: FieldDescriptor, build: Callable[[Descriptor], MessageEncoder]
) -> tuple[Writer, int, Callable[[Any], bool] | None]:
    """(value -> payload bytes, wire type, is-default test or None for messages)."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        body = _WELL_KNOWN_BODIES.get(field.message_type.full_name)
        if body is None:
            # Cached messages (a list page's tasks) come out already prefixed.
            return build(field.message_type).encode_prefixed, _LEN, None
        return lambda value: _length_prefixed(body(value)), _LEN, None
    if kind == FieldDescriptor.TYPE_STRING:
        return lambda value: _length_prefixed(value.encode("utf-8")), _LEN, _empty
    if kind == FieldDescriptor.TYPE_BYTES:
        return lambda value: _length_prefixed(_bytes(value)), _LEN, _empty
    if kind == FieldDescriptor.TYPE_BOOL:
        return lambda value: b"\x01" if value else b"\x00", _VARINT, _not
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = {value.name: value.number for value in field.enum_type.values}
        return (lambda value: varint(_enum(numbers, value))), _VARINT, _enum_default(numbers)
    if kind in (
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
    ):
        return lambda value: varint(int(value)), _VARINT, _zero
    if kind in (FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64):
        return lambda value: varint(_zigzag(int(value))), _VARINT, _zero
    packed = _FIXED.get(kind)
    if packed is not None:
        fmt, wire_type = packed
        if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            return lambda value: struct.pack(fmt, _float(value)), wire_type, _zero_float
        return lambda value: struct.pack(fmt, int(value)), wire_type, _zero
    raise LookupError(f"{field.full_name}: field type {kind} is not supported")


_FIXED = {
    FieldDescriptor.TYPE_FIXED32: ("<I", _I32),
    FieldDescriptor.TYPE_SFIXED32: ("<i", _I32),
    FieldDescriptor.TYPE_FLOAT: ("<f", _I32),
    FieldDescriptor.TYPE_FIXED64: ("<Q", _I64),
    FieldDescriptor.TYPE_SFIXED64: ("<q", _I64),
    FieldDescriptor.TYPE_DOUBLE: ("<d", _I64),
}


def _length_prefixed(payload: bytes) -> bytes:
    return varint(len(payload)) + payload


def _empty(value: Any) -> bool:
    return not value


def _not(value: Any) -> bool:
    return not value


def _zero(value: Any) -> bool:
    return int(value) == 0


def _zero_float(value: Any) -> bool:
    return _float(value) == 0.0


_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _float(value: Any) -> float:
    special = _SPECIAL_FLOATS.get(value) if isinstance(value, str) else None
    return float(value) if special is None else special


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _bytes(value: Any) -> bytes:
    text = value if isinstance(value, str) else str(value)
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _enum(numbers: Mapping[str, int], value: Any) -> int:
    if isinstance(value, str):
        return numbers.get(value, 0)  # an unknown name is dropped, like json_format does
    return int(value)


def _enum_default(numbers: Mapping[str, int]) -> Callable[[Any], bool]:
    return lambda value: _enum(numbers, value) == 0


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))"
)


def _seconds_and_nanos(seconds: int, nanos: int) -> bytes:
    out = b""
    if seconds:
        out += b"\x08" + varint(seconds)
    if nanos:
        out += b"\x10" + varint(nanos)
    return out


def timestamp_body(value: Any) -> bytes:
    """An RFC 3339 string as a ``google.protobuf.Timestamp`` message body."""
    body = _TIMESTAMPS.get(value)
    if body is None:
        body = _timestamp_body(value)
        if len(_TIMESTAMPS) >= _TIMESTAMPS_KEPT:
            _TIMESTAMPS.clear()
        _TIMESTAMPS[value] = body
    return body


# Timestamps repeat (every task of a standing manual clock has the same createdAt) and
# parsing one is a third of a task's encoding: remember the last many.
_TIMESTAMPS: dict[str, bytes] = {}


def _timestamp_body(value: Any) -> bytes:
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, offset_h, offset_m = match.groups()[6:]
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if sign is not None:
        offset = int(offset_h) * 3600 + int(offset_m) * 60
        seconds -= offset if sign == "+" else -offset
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    return _seconds_and_nanos(seconds, nanos)


def duration_body(value: Any) -> bytes:
    """A proto3-JSON duration (``"1.5s"``) as a ``google.protobuf.Duration`` body."""
    if not isinstance(value, str) or not value.endswith("s"):
        raise ValueError(f"not a duration: {value!r}")
    text = value[:-1]
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    seconds = int(whole or "0")
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    if negative:
        seconds, nanos = -seconds, -nanos
    return _seconds_and_nanos(seconds, nanos)


# The message bodies of the well-known types written from their proto3-JSON strings.
_WELL_KNOWN_BODIES: dict[str, Callable[[Any], bytes]] = {
    "google.protobuf.Timestamp": timestamp_body,
    "google.protobuf.Duration": duration_body,
}


# -- decoding: a parsed message to proto3 JSON ------------------------------------------

_SIXTY_FOUR_BIT = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_PLAIN_SCALARS = frozenset(
    {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_SFIXED32,
    }
)
Convert = Callable[[Any], Any]
_SINGLE, _REPEATED, _MAP = 0, 1, 2


class MessageDecoder:
    """Turns parsed messages of one type into proto3 JSON, as ``MessageToDict`` does.

    The fields a message holds come from ``ListFields`` (C code in upb), which lists
    exactly the fields proto3 JSON writes: the set ones, defaults omitted unless the field
    has presence. Each is converted by a function chosen from its descriptor at start-up.
    """

    def __init__(self) -> None:
        # Keyed by the descriptor object itself: upb hands out the same one every time, and
        # hashing it is cheaper than reading its ``name``.
        self.fields: dict[Any, tuple[str, Convert, int]] = {}  # -> (json name, convert, shape)

    def decode(self, message: Any) -> dict[str, Any]:
        """The message as a proto3-JSON dict (:meth:`compile` writes this out per type)."""
        out: dict[str, Any] = {}
        fields = self.fields
        for field, value in message.ListFields():
            json_name, convert, shape = fields[field]
            if shape == _SINGLE:
                out[json_name] = convert(value)
            elif shape == _REPEATED:
                out[json_name] = [convert(item) for item in value]
            else:
                out[json_name] = {str(key): convert(item) for key, item in value.items()}
        return out

    def compile(self) -> None:
        """Replace :meth:`decode` by a function written for this message type.

        It reads each field by name, in field-number order as ``ListFields`` lists them:
        ``HasField`` for one with presence, else the value, written when it is not the
        default (these messages hold strings, booleans, integers and enums, whose default
        is exactly what is false). ``ListFields`` makes a tuple and a wrapper per set
        field: a CreateTask request decodes ~20% faster without it.
        """
        namespace: dict[str, Any] = {}
        lines = ["def decode(message):", "    out = {}"]
        ordered = sorted(self.fields.items(), key=lambda item: item[0].number)
        for number, (field, (json_name, convert, shape)) in enumerate(ordered):
            name = field.name
            if not name.isidentifier() or keyword.iskeyword(name):
                return  # not an attribute: ListFields it is
            value = "value" if convert is _same else f"C{number}(value)"
            namespace[f"C{number}"] = convert
            if shape == _SINGLE and field.has_presence:
                lines += [
                    f"    if message.HasField({name!r}):",
                    f"        value = message.{name}",
                    f"        out[{json_name!r}] = {value}",
                ]
                continue
            lines += [f"    value = message.{name}", "    if value:"]
            if shape == _SINGLE:
                lines.append(f"        out[{json_name!r}] = {value}")
            elif shape == _REPEATED:
                item = "item" if convert is _same else f"C{number}(item)"
                lines.append(f"        out[{json_name!r}] = [{item} for item in value]")
            else:
                lines.append(
                    f"        out[{json_name!r}] = "
                    f"{{str(key): C{number}(item) for key, item in value.items()}}"
                )
        lines.append("    return out")
        exec("\n".join(lines), namespace)  # the source is built from the descriptors only
        self.decode = namespace["decode"]  # type: ignore[method-assign]


def decoder_for(descriptor: Descriptor) -> Convert:
    """A function from a parsed message of ``descriptor`` to its proto3-JSON dict; for
    field kinds the requests of this API never use, ``json_format.MessageToDict``."""
    decoders: dict[str, MessageDecoder] = {}
    unsupported: list[str] = []

    def build(message: Descriptor) -> MessageDecoder:
        found = decoders.get(message.full_name)
        if found is not None:
            return found
        decoder = decoders[message.full_name] = MessageDecoder()
        for field in message.fields:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                convert = _converter(field.message_type.fields_by_number[2], build, unsupported)
                decoder.fields[field] = (field.json_name, convert, _MAP)
            else:
                convert = _converter(field, build, unsupported)
                repeated = field.label == FieldDescriptor.LABEL_REPEATED
                decoder.fields[field] = (
                    field.json_name,
                    convert,
                    _REPEATED if repeated else _SINGLE,
                )
        if not unsupported:  # else json_format decodes the whole request anyway
            decoder.compile()
        return decoder

    top = build(descriptor)
    if unsupported:
        from google.protobuf import json_format

        def slow(message: Any) -> dict[str, Any]:
            decoded: dict[str, Any] = json_format.MessageToDict(message)
            return decoded

        return slow
    return top.decode


def _converter(
    field: FieldDescriptor, build: Callable[[Descriptor], MessageDecoder], unsupported: list[str]
) -> Convert:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            field_name = field.name

            def to_json_string(value: Any) -> Any:
                try:
                    return value.ToJsonString()
                except ValueError as error:  # out of range: name the field, as json_format does
                    raise ValueError(f"Failed to serialize {field_name} field: {error}") from None

            return to_json_string
        if name.startswith("google.protobuf."):
            unsupported.append(name)
            return _same
        return build(field.message_type).decode
    if kind in _PLAIN_SCALARS:
        return _same
    if kind in _SIXTY_FOUR_BIT:
        return str
    if kind == FieldDescriptor.TYPE_ENUM:
        names = {value.number: value.name for value in field.enum_type.values}
        return lambda number: names.get(number, number)
    unsupported.append(field.full_name)  # bytes, float, double: not in these requests
    return _same


def _same(value: Any) -> Any:
    return value
