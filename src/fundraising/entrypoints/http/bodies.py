"""Reading request bodies: exact JSON (numbers as Decimal), multipart forms, and fields
converted one by one so that a 400 names every invalid field at once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from attrs import frozen
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from msgspec import UnsetType

from fundraising.application.errors import FieldError
from fundraising.domain.collect import UNCHANGED
from fundraising.domain.errors import InvalidValue
from fundraising.entrypoints.http.errors import (
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from fundraising.entrypoints.http.fields import (
    CONVERTERS,
    UNREPRESENTABLE,
    CoverFile,
    Unrepresentable,
    json_number,
)

_JSON = msgspec.json.Decoder(float_hook=json_number)  # numbers reach Money exactly, not as floats
_LONGEST_INTEGER = 20  # digits of any integer a field may hold (2**64 has 20)
MAX_JSON_BODY = 64 * 1024
MAX_COVER = 2 * 1024 * 1024
MAX_FORM_BODY = MAX_COVER + 64 * 1024


def is_multipart(request: Request[Any, Any, Any]) -> bool:
    return request.content_type[0] == "multipart/form-data"


async def json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    media_type = request.content_type[0]
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"Send JSON (application/json), not {media_type}.")
    body = await request.body()
    if len(body) > MAX_JSON_BODY:  # routes that take covers allow more, for multipart only
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BODY // 1024} KiB.")
    if not body.strip():
        raise MalformedRequest("The request body is empty; send a JSON object.")
    try:
        data = _decoded(body)
    except msgspec.DecodeError as error:
        raise MalformedRequest(f"The request body is not valid JSON: {error}.") from None
    except UnicodeDecodeError:
        raise MalformedRequest("The request body is not valid UTF-8.") from None
    except RecursionError:
        raise MalformedRequest("The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return data


async def optional_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The JSON object of a body that may be left out (no body: no fields)."""
    if not (await request.body()).strip():
        return {}
    return await json_object(request)


def _decoded(body: bytes) -> Any:
    try:
        return _JSON.decode(body)
    except msgspec.ValidationError:  # an integer literal of thousands of digits, and only that
        pass

    # msgspec, like Python itself, refuses to convert such an integer. The body is read again
    # with those literals marked, so that the fields holding one are reported like any other.
    def integer(text: str) -> int | Unrepresentable:
        return int(text) if len(text.lstrip("-")) <= _LONGEST_INTEGER else UNREPRESENTABLE

    data = json.loads(body, parse_int=integer, parse_float=json_number)
    if any(isinstance(text, str) and not _is_unicode(text) for text in _scalars(data)):
        raise MalformedRequest("The request body holds a lone surrogate (\\ud800-\\udfff).")
    return data


def _is_unicode(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _scalars(value: object) -> list[object]:
    """Every key and scalar inside a JSON value (msgspec refuses lone surrogates; json does not)."""
    found: list[object] = []
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            found.extend(current)
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
        else:
            found.append(current)
    return found


async def form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A multipart form as a dict; an uploaded file bigger than the cover limit is a 413."""
    try:
        parsed = await request.form()
    except ClientException as error:
        if error.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
            raise PayloadTooLarge("The request body is too large.") from None
        raise MalformedRequest(f"The multipart form cannot be read: {error.detail}.") from None
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("A multipart field is not valid UTF-8 text.") from None
    data: dict[str, Any] = {}
    for name, value in parsed.multi_items():
        if isinstance(value, UploadFile):
            value.file.seek(0, 2)
            if value.file.tell() > MAX_COVER:
                raise PayloadTooLarge(f"The file in {name!r} is larger than 2 MiB.")
            value.file.seek(0)
        data.setdefault(name, value)
    return data


@frozen
class Fields:
    """Converted values by field name, and the fields that could not be converted."""

    values: Mapping[str, Any]
    errors: tuple[FieldError, ...]

    def get(self, name: str, default: Any = UNCHANGED) -> Any:
        return self.values.get(name, default)


def _message(error: msgspec.ValidationError) -> str:
    message = str(error)
    for suffix in (" - at `$`",):
        message = message.removesuffix(suffix)
    return message if message.endswith(".") else message + "."


def read_fields(
    data: Mapping[str, Any], schema: type[msgspec.Struct], *, from_form: bool = False
) -> Fields:
    """Convert each field the schema declares and the body holds; unknown fields are ignored,
    and missing ones are left to the core (which says what is required).

    From a form every value is a string: conversions are lax ("true", "150.00") and an
    empty string means null for a field that may be null, or no file for a file.
    """
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field in _fields_of(schema):
        if field.name not in data:
            continue
        raw = data[field.name]
        if isinstance(raw, UploadFile):
            if field.takes_file:
                values[field.name] = raw
            else:
                errors.append(FieldError(field.name, "Expected text, got a file."))
            continue
        if from_form and raw == "" and (field.nullable or field.takes_file):
            values[field.name] = None
            continue
        try:
            values[field.name] = _convert(raw, field.type, strict=not from_form)
        except msgspec.ValidationError as error:
            errors.append(FieldError(field.name, _message(error)))
        except InvalidValue as error:
            errors.append(FieldError(field.name, str(error)))
    return Fields(values, tuple(errors))


@frozen
class _Field:
    name: str
    type: Any
    nullable: bool
    takes_file: bool


@cache
def _fields_of(schema: type[msgspec.Struct]) -> tuple[_Field, ...]:
    """A schema's fields, resolved once (msgspec evaluates the annotations on every call)."""
    return tuple(
        _Field(
            field.encode_name,
            _conversion_type(field.type),
            _nullable(field.type),
            CoverFile in (get_args(field.type) or (field.type,)),
        )
        for field in msgspec.structs.fields(schema)
    )


def _convert(raw: Any, annotation: Any, *, strict: bool) -> Any:
    """msgspec for standard types; ours (raising `InvalidValue`) for the marker types."""
    members = get_args(annotation) or (annotation,)
    custom = next((member for member in members if member in CONVERTERS), None)
    if custom is None:
        return msgspec.convert(_whole_numbers(raw), annotation, strict=strict)
    if raw is None and type(None) in members:
        return None
    return CONVERTERS[custom](raw)


def _whole_numbers(value: Any) -> Any:
    """JSON numbers such as `23.0` or `1e2` as the integers they are (JSON Schema's `integer`
    admits them), so that an id field takes them; a fraction stays a Decimal, which no int
    field takes. Exponents are bounded before any digit is expanded."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < _LONGEST_INTEGER:
        whole = value.to_integral_value()
        return int(whole) if whole == value else value
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def _nullable(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


def _conversion_type(annotation: Any) -> Any:
    """What the edge converts a field to: its type without msgspec's UnsetType (which only
    means "absent" in a Struct) and without constraints — lengths, patterns and ranges are
    the core's to check; the schema keeps them for the OpenAPI document."""
    if get_origin(annotation) is Annotated:
        return _conversion_type(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        members = tuple(_conversion_type(m) for m in get_args(annotation) if m is not UnsetType)
        return members[0] if len(members) == 1 else Union[members]  # noqa: UP007
    return annotation
