"""xAPI statement validation: the Data requirements of xAPI 1.0.3 and 2.0.0 as pure functions.

No Flask, no database, no network: the statement endpoint calls `validate_batch` and maps
`StatementError` to 400 with its path and sentence.

The first offending property is stable: in each object, properties it may not have come first
(alphabetically), then its properties in the order of the spec's tables, then the rules that
tie properties together (one identifier per Agent, score ranges, interaction component lists).

Where the versions differ (xAPI 2.0.0 is IEEE 9274.1.1):
- a timestamp without a time zone offset is accepted under 1.0.3 (the spec says "SHOULD
  include the time zone") and rejected under 2.0.0, which requires one;
- `context.contextAgents` and `context.contextGroups` exist only in 2.0.0;
- `version` must start with "1.0." under 1.0.3; 2.0.0 also accepts "2.0.0".
In both, "-00:00" is rejected (ISO 8601 writes a zero offset with "+"), and `stored` and
`authority` are accepted as they are: the receiver overwrites them.

The formats are checked here, not by a library: isodate accepts durations xAPI forbids ("PT",
"P4W1D", the alternative format) and langcodes accepts tags RFC 5646 does not ("en_US") while
rejecting well-formed ones it does not know. The walk follows the statement's fixed shape
(a SubStatement cannot nest; extension values are not entered), so no input, however deeply
nested, makes it recurse more than a few levels.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlsplit

__all__ = ["SUPPORTED_VERSIONS", "StatementError", "validate_batch", "validate_statement"]

V1 = "1.0.3"
V2 = "2.0.0"
#: The xAPI versions whose Data requirements this module checks.
SUPPORTED_VERSIONS = (V1, V2)


class StatementError(ValueError):
    """A statement breaks the xAPI Data requirements: where (a JSON path) and why (a sentence)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        #: JSON path of the first offending property, e.g. "statements[3].actor.mbox".
        self.path = path
        #: One sentence a person understands, e.g. "mbox must be a mailto: IRI."
        self.message = message


def validate_statement(statement: object, version: str, *, path: str = "") -> None:
    """Raise StatementError for the first violation of the xAPI Data requirements for `version`."""
    if version not in SUPPORTED_VERSIONS:
        # The caller's mistake, not the statement's: not a StatementError.
        raise ValueError(
            f"Unsupported xAPI version {version!r}; expected one of {SUPPORTED_VERSIONS}."
        )
    _statement(statement, path, _Ctx(version))


def validate_batch(body: object, version: str) -> list[dict[str, object]]:
    """Validate one statement or a non-empty array of them, all or nothing; return the list."""
    if isinstance(body, dict):
        validate_statement(body, version)
        return [body]
    if not isinstance(body, list):
        raise StatementError("", f"Send a statement object or an array of them, not {_kind(body)}.")
    if not body:
        raise StatementError("statements", "The array of statements is empty; send at least one.")
    seen: dict[str, int] = {}
    for index, statement in enumerate(body):
        validate_statement(statement, version, path=f"statements[{index}]")
        statement_id = statement.get("id")
        if isinstance(statement_id, str):
            first = seen.setdefault(statement_id.lower(), index)
            if first != index:
                raise StatementError(
                    f"statements[{index}].id",
                    f"statements[{first}] already has this id; ids in one batch must differ.",
                )
    return [statement for statement in body if isinstance(statement, dict)]


# -- the walk ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    version: str
    in_substatement: bool = False
    #: objectType of the enclosing statement's object ("revision" and "platform" depend on it).
    object_type: str = "Activity"


Check = Callable[[object, str, _Ctx], None]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    check: Check
    required: bool = False


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


def _join(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN or an infinity"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _mapping(value: object, path: str, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise StatementError(path, f"{what} must be an object, not {_kind(value)}.")
    return value


def _only(
    obj: Mapping[str, object],
    path: str,
    allowed: Collection[str],
    kind: str,
    explain: Mapping[str, str] | None = None,
) -> None:
    for key in sorted(obj, key=str):
        if key not in allowed:
            reason = (explain or {}).get(
                key, f'{kind[0].upper()}{kind[1:]} has no property "{key}".'
            )
            raise StatementError(_join(path, str(key)), reason)


def _fields(
    obj: Mapping[str, object], path: str, ctx: _Ctx, fields: Sequence[_Field], kind: str
) -> None:
    for field in fields:
        if field.name in obj:
            field.check(obj[field.name], _join(path, field.name), ctx)
        elif field.required:
            raise StatementError(_join(path, field.name), f"{field.name} is required in {kind}.")


def _shape(
    value: object, path: str, ctx: _Ctx, kind: str, fields: Sequence[_Field]
) -> Mapping[str, object]:
    obj = _mapping(value, path, _leaf(path) or kind)
    _only(obj, path, [field.name for field in fields], kind)
    _fields(obj, path, ctx, fields, kind)
    return obj


def _array(value: object, path: str, *, non_empty: bool = False) -> list[object]:
    if not isinstance(value, list):
        raise StatementError(path, f"{_leaf(path)} must be an array, not {_kind(value)}.")
    if non_empty and not value:
        raise StatementError(path, f"{_leaf(path)} must list at least one item.")
    return value


def _array_of(check: Check, *, non_empty: bool = False) -> Check:
    def check_items(value: object, path: str, ctx: _Ctx) -> None:
        for index, item in enumerate(_array(value, path, non_empty=non_empty)):
            check(item, f"{path}[{index}]", ctx)

    return check_items


# -- formats ----------------------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:", re.ASCII)
_NOT_IN_IRIS = re.compile(r'[\s<>"{}|\\^`\x00-\x1f\x7f-\x9f]|%(?![0-9A-Fa-f]{2})')
_MBOX = re.compile(r"mailto:[^@\s]+@[^@\s]+")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}", re.ASCII)
_SHA2 = re.compile(r"[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128}", re.ASCII)
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;.*)?", re.ASCII)
_STATEMENT_VERSION_1 = re.compile(r"1\.0\.[0-9]+", re.ASCII)

# RFC 5646 section 2.1, well-formed (not checked against the subtag registry).
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
    "i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|"
    "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language, extlangs
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    rf"|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED}",
    re.IGNORECASE | re.ASCII,
)

# ISO 8601:2004 4.4.3.2 (the alternative format is not allowed); a fraction only on the last part.
_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?:({_NUMBER}W)|({_NUMBER}Y)?({_NUMBER}M)?({_NUMBER}D)?"
    rf"(?:T({_NUMBER}H)?({_NUMBER}M)?({_NUMBER}S)?)?)",
    re.ASCII,
)
_TIME = r"(?P<hour>[0-9]{2})SEP(?P<minute>[0-9]{2})(?:SEP(?P<second>[0-9]{2})(?:[.,][0-9]+)?)?"
_TIMESTAMPS = (
    re.compile(
        r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
        + _TIME.replace("SEP", ":")
        + r"(?P<offset>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?",
        re.ASCII,
    ),
    re.compile(
        r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})[Tt]"
        + _TIME.replace("SEP", "")
        + r"(?P<offset>[Zz]|[+-][0-9]{2}(?:[0-9]{2})?)?",
        re.ASCII,
    ),
)


def is_iri(text: str) -> bool:
    """Whether ``text`` is an absolute IRI (a scheme, then something, no forbidden characters)."""
    scheme = _SCHEME.match(text)
    return scheme is not None and len(text) > scheme.end() and not _NOT_IN_IRIS.search(text)


def _is_irl(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return is_iri(text) and parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def _is_duration(text: str) -> bool:
    match = _DURATION.fullmatch(text)
    if match is None:
        return False
    parts = [part for part in match.groups() if part]
    has_time = "T" in text and any(match.group(group) for group in (5, 6, 7))
    fraction_before_last = any("." in part or "," in part for part in parts[:-1])
    return bool(parts) and ("T" not in text or has_time) and not fraction_before_last


def _is_real_time(match: re.Match[str]) -> bool:
    try:
        date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return False
    offset = (match["offset"] or "Z")[1:].replace(":", "")
    return (
        int(match["hour"]) <= 23
        and int(match["minute"]) <= 59
        and int(match["second"] or 0) <= 60  # 60: a leap second
        and int(offset[:2] or 0) <= 23
        and int(offset[2:] or 0) <= 59
    )


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise StatementError(path, f"{_leaf(path)} must be a string, not {_kind(value)}.")
    return value


def _string(value: object, path: str, ctx: _Ctx) -> None:
    _text(value, path)


def _format(test: Callable[[str], bool], sentence: str) -> Check:
    """A check that `value` is a string passing `test`; `sentence` follows the property name."""

    def check(value: object, path: str, ctx: _Ctx) -> None:
        if not test(_text(value, path)):
            raise StatementError(path, f"{_leaf(path)} {sentence}")

    return check


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: pattern.fullmatch(text) is not None


_iri = _format(is_iri, 'must be an absolute IRI with a scheme, such as "https://example.org/x".')
_irl = _format(_is_irl, 'must be an http or https URL, such as "https://example.org/".')
_uuid = _format(
    _matches(_UUID),
    'must be a UUID in its 8-4-4-4-12 hex form, such as "e4b8c3a0-1f2d-4c5b-9a6e-7d8f9a0b1c2d".',
)
_language_tag = _format(
    _matches(_LANGUAGE_TAG), 'must be an RFC 5646 language tag, such as "en" or "en-US".'
)
_duration = _format(
    _is_duration, 'must be an ISO 8601 duration, such as "PT1H30M", "P1DT2H" or "PT0.5S".'
)
_mbox = _format(lambda text: _matches(_MBOX)(text) and is_iri(text), "must be a mailto: IRI.")
_mbox_sha1sum = _format(_matches(_SHA1), "must be 40 hexadecimal characters (a SHA-1 hash).")
_sha2 = _format(
    _matches(_SHA2),
    "must be the hexadecimal SHA-2 hash of the attachment (56, 64, 96 or 128 characters).",
)
_content_type = _format(
    _matches(_MEDIA_TYPE), 'must be an Internet media type, such as "application/pdf".'
)


def _boolean(value: object, path: str, ctx: _Ctx) -> None:
    if not isinstance(value, bool):
        raise StatementError(path, f"{_leaf(path)} must be true or false, not {_kind(value)}.")


def _number(value: object, path: str, ctx: _Ctx) -> None:
    # bool is an int in Python but true/false in JSON; NaN and infinities are not JSON numbers.
    is_integer = isinstance(value, int) and not isinstance(value, bool)
    if not is_integer and not (isinstance(value, float) and math.isfinite(value)):
        raise StatementError(path, f"{_leaf(path)} must be a number, not {_kind(value)}.")


def _length(value: object, path: str, ctx: _Ctx) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StatementError(path, "length must be a whole number of octets, 0 or more.")


def _accepted(value: object, path: str, ctx: _Ctx) -> None:
    """`stored` and `authority`: the receiver overwrites them, so any value is accepted."""


def _timestamp(value: object, path: str, ctx: _Ctx) -> None:
    text = _text(value, path)
    match = next(filter(None, (pattern.fullmatch(text) for pattern in _TIMESTAMPS)), None)
    if match is None or not _is_real_time(match):
        raise StatementError(
            path,
            f'{_leaf(path)} must be an ISO 8601 date and time, such as "2026-11-21T14:05:00Z".',
        )
    offset = match["offset"]
    if offset is None and ctx.version == V2:
        raise StatementError(
            path, f'{_leaf(path)} must include a time zone offset ("Z" or "+hh:mm") in xAPI 2.0.0.'
        )
    if offset and offset[0] == "-" and not offset[1:].strip("0:"):
        raise StatementError(
            path, f'{_leaf(path)} must not use the offset "-00:00"; write "Z" or "+00:00" for UTC.'
        )


def _version(value: object, path: str, ctx: _Ctx) -> None:
    if _STATEMENT_VERSION_1.fullmatch(_text(value, path)):
        return
    if ctx.version == V2:
        if value != "2.0.0":
            raise StatementError(path, 'version must be "2.0.0" or start with "1.0.".')
        return
    raise StatementError(path, 'version must start with "1.0." in xAPI 1.0.3.')


def _language_map(value: object, path: str, ctx: _Ctx) -> None:
    obj = _mapping(value, path, _leaf(path))
    for tag in sorted(obj, key=str):
        if not isinstance(tag, str) or not _LANGUAGE_TAG.fullmatch(tag):
            raise StatementError(
                _join(path, str(tag)),
                f'"{tag}" is not a language tag; {_leaf(path)} keys are tags like "en-US".',
            )
        if not isinstance(obj[tag], str):
            raise StatementError(_join(path, tag), f"Each {_leaf(path)} value must be a string.")


def _extensions(value: object, path: str, ctx: _Ctx) -> None:
    obj = _mapping(value, path, "extensions")
    for key in sorted(obj, key=str):
        if not isinstance(key, str) or not is_iri(key):
            raise StatementError(
                _join(path, str(key)), f'Extension keys must be absolute IRIs; "{key}" is not one.'
            )


# -- Agents and Groups --------------------------------------------------------------------------

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_ACCOUNT_FIELDS = (_Field("homePage", _irl, required=True), _Field("name", _string, required=True))


def _account(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "an account", _ACCOUNT_FIELDS)


def _actor_kind(obj: Mapping[str, object], path: str, kinds: Collection[str], mismatch: str) -> str:
    object_type = obj.get("objectType", "Agent")
    if not isinstance(object_type, str) or object_type not in {"Agent", "Group"}:
        raise StatementError(_join(path, "objectType"), 'objectType must be "Agent" or "Group".')
    if object_type not in kinds:
        raise StatementError(_join(path, "objectType"), mismatch)
    return object_type


def _a(kind: str) -> str:
    return f"An {kind}" if kind == "Agent" else f"A {kind}"


def _identifiers(obj: Mapping[str, object], path: str, kind: str) -> None:
    present = [name for name in _IFIS if name in obj]
    if len(present) > 1:
        raise StatementError(
            _join(path, present[1]),
            f"{_a(kind)} has one identifier, but this one has {present[0]} and {present[1]}.",
        )
    if not present and kind == "Agent":
        raise StatementError(
            path, "An Agent needs one identifier: mbox, mbox_sha1sum, openid or account."
        )
    if not present and not obj.get("member"):
        raise StatementError(
            _join(path, "member"),
            "A Group with no mbox, mbox_sha1sum, openid or account must list its members.",
        )


def _actor_checker(kinds: Collection[str] = ("Agent", "Group"), mismatch: str = "") -> Check:
    """A check for an Agent or Group whose objectType is one of `kinds` (else `mismatch`)."""

    def check(value: object, path: str, ctx: _Ctx) -> None:
        obj = _mapping(value, path, _leaf(path))
        kind = _actor_kind(obj, path, kinds, mismatch)
        fields = _GROUP_FIELDS if kind == "Group" else _AGENT_FIELDS
        explain = {"member": 'Only a Group has members; set objectType to "Group".'}
        _only(obj, path, [field.name for field in fields], _a(kind), explain)
        _fields(obj, path, ctx, fields, "a" + _a(kind)[1:])
        _identifiers(obj, path, kind)

    return check


_AGENT_FIELDS = (
    _Field("objectType", _string),
    _Field("name", _string),
    _Field("mbox", _mbox),
    _Field("mbox_sha1sum", _mbox_sha1sum),
    _Field("openid", _iri),
    _Field("account", _account),
)
_agent_only = _actor_checker(("Agent",), "Group members must be Agents, not Groups.")
_GROUP_FIELDS = (*_AGENT_FIELDS, _Field("member", _array_of(_agent_only)))
_actor = _actor_checker()


# -- Verb, Activity, StatementRef, SubStatement -------------------------------------------------


def _equals(expected: str) -> Check:
    def check(value: object, path: str, ctx: _Ctx) -> None:
        if value != expected:
            raise StatementError(path, f'{_leaf(path)} must be "{expected}" here.')

    return check


_VERB_FIELDS = (_Field("id", _iri, required=True), _Field("display", _language_map))


def _verb(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "a verb", _VERB_FIELDS)


_COMPONENT_LISTS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_COMPONENT_FIELDS = (_Field("id", _string, required=True), _Field("description", _language_map))


def _interaction_type(value: object, path: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or value not in _COMPONENT_LISTS_BY_TYPE:
        raise StatementError(
            path, f"interactionType must be one of: {', '.join(_COMPONENT_LISTS_BY_TYPE)}."
        )


def _components(value: object, path: str, ctx: _Ctx) -> None:
    seen: set[object] = set()
    for index, item in enumerate(_array(value, path)):
        component = _shape(
            item, f"{path}[{index}]", ctx, "an interaction component", _COMPONENT_FIELDS
        )
        if component["id"] in seen:
            raise StatementError(
                f"{path}[{index}].id",
                f'The id "{component["id"]}" appears twice in {_leaf(path)}; ids must be distinct.',
            )
        seen.add(component["id"])


_DEFINITION_FIELDS = (
    _Field("name", _language_map),
    _Field("description", _language_map),
    _Field("type", _iri),
    _Field("moreInfo", _irl),
    _Field("interactionType", _interaction_type),
    _Field("correctResponsesPattern", _array_of(_string)),
    *(_Field(name, _components) for name in _COMPONENT_LISTS),
    _Field("extensions", _extensions),
)


def _definition(value: object, path: str, ctx: _Ctx) -> None:
    obj = _shape(value, path, ctx, "an Activity definition", _DEFINITION_FIELDS)
    interaction_type = obj.get("interactionType")
    used = [name for name in ("correctResponsesPattern", *_COMPONENT_LISTS) if name in obj]
    if not isinstance(interaction_type, str):
        if used:
            raise StatementError(
                _join(path, "interactionType"),
                f"interactionType is required when an Activity definition has {used[0]}.",
            )
        return
    allowed = _COMPONENT_LISTS_BY_TYPE[interaction_type]
    for name in _COMPONENT_LISTS:
        if name in obj and name not in allowed:
            takes = " and ".join(allowed) or "no component lists"
            raise StatementError(
                _join(path, name),
                f'{name} does not go with interactionType "{interaction_type}" (it takes {takes}).',
            )


_ACTIVITY_FIELDS = (
    _Field("objectType", _equals("Activity")),
    _Field("id", _iri, required=True),
    _Field("definition", _definition),
)
_STATEMENT_REF_FIELDS = (
    _Field("objectType", _equals("StatementRef"), required=True),
    _Field("id", _uuid, required=True),
)


def _activity(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "an Activity", _ACTIVITY_FIELDS)


def _statement_ref(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "a StatementRef", _STATEMENT_REF_FIELDS)


def _substatement(value: object, path: str, ctx: _Ctx) -> None:
    if ctx.in_substatement:
        raise StatementError(
            _join(path, "objectType"), "A SubStatement cannot contain another SubStatement."
        )
    _statement(value, path, replace(ctx, in_substatement=True))


_OBJECTS: dict[str, Check] = {
    "Activity": _activity,
    "Agent": _actor,
    "Group": _actor,
    "StatementRef": _statement_ref,
    "SubStatement": _substatement,
}


def _statement_object(value: object, path: str, ctx: _Ctx) -> None:
    obj = _mapping(value, path, "object")
    object_type = obj.get("objectType", "Activity")
    if not isinstance(object_type, str) or object_type not in _OBJECTS:
        raise StatementError(
            _join(path, "objectType"), f"objectType must be one of: {', '.join(_OBJECTS)}."
        )
    if "objectType" not in obj and any(name in obj for name in (*_IFIS, "member")):
        raise StatementError(
            _join(path, "objectType"),
            "objectType is required when the object is an Agent or a Group.",
        )
    _OBJECTS[object_type](obj, path, ctx)


# -- Result, Context, Attachments ---------------------------------------------------------------


def _scaled(value: object, path: str, ctx: _Ctx) -> None:
    _number(value, path, ctx)
    if isinstance(value, int | float) and not -1 <= value <= 1:
        raise StatementError(path, "scaled must be between -1 and 1.")


_SCORE_FIELDS = (
    _Field("scaled", _scaled),
    _Field("raw", _number),
    _Field("min", _number),
    _Field("max", _number),
)


def _score(value: object, path: str, ctx: _Ctx) -> None:
    obj = _shape(value, path, ctx, "a score", _SCORE_FIELDS)
    numbers: dict[str, float] = {
        key: number for key, number in obj.items() if isinstance(number, int | float)
    }
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and not low < high:
        raise StatementError(_join(path, "max"), "max must be greater than min.")
    if raw is not None and low is not None and raw < low:
        raise StatementError(_join(path, "raw"), "raw must not be less than min.")
    if raw is not None and high is not None and raw > high:
        raise StatementError(_join(path, "raw"), "raw must not be more than max.")


_RESULT_FIELDS = (
    _Field("score", _score),
    _Field("success", _boolean),
    _Field("completion", _boolean),
    _Field("response", _string),
    _Field("duration", _duration),
    _Field("extensions", _extensions),
)


def _result(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "a result", _RESULT_FIELDS)


def _context_activity(value: object, path: str, ctx: _Ctx) -> None:
    if isinstance(value, list):
        _array_of(_activity)(value, path, ctx)
    elif isinstance(value, dict):
        _activity(value, path, ctx)
    else:
        raise StatementError(path, f"{_leaf(path)} must be an Activity or an array of Activities.")


_CONTEXT_ACTIVITIES_FIELDS = tuple(
    _Field(name, _context_activity) for name in ("parent", "grouping", "category", "other")
)


def _context_activities(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "the contextActivities object", _CONTEXT_ACTIVITIES_FIELDS)


def _activity_only_string(value: object, path: str, ctx: _Ctx) -> None:
    if ctx.object_type != "Activity":
        raise StatementError(
            path, f"{_leaf(path)} is only allowed when the statement's object is an Activity."
        )
    _string(value, path, ctx)


_RELEVANT_TYPES = _Field("relevantTypes", _array_of(_iri, non_empty=True))
_CONTEXT_AGENT_FIELDS = (
    _Field("objectType", _equals("contextAgent"), required=True),
    _Field(
        "agent", _actor_checker(("Agent",), 'agent must be an Agent (objectType "Agent").'), True
    ),
    _RELEVANT_TYPES,
)
_CONTEXT_GROUP_FIELDS = (
    _Field("objectType", _equals("contextGroup"), required=True),
    _Field(
        "group", _actor_checker(("Group",), 'group must be a Group (objectType "Group").'), True
    ),
    _RELEVANT_TYPES,
)


def _context_agent(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "a contextAgent", _CONTEXT_AGENT_FIELDS)


def _context_group(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "a contextGroup", _CONTEXT_GROUP_FIELDS)


_CONTEXT_FIELDS = (
    _Field("registration", _uuid),
    _Field("instructor", _actor),
    _Field("team", _actor_checker(("Group",), 'A team must be a Group (objectType "Group").')),
    _Field("contextActivities", _context_activities),
    _Field("contextAgents", _array_of(_context_agent)),
    _Field("contextGroups", _array_of(_context_group)),
    _Field("revision", _activity_only_string),
    _Field("platform", _activity_only_string),
    _Field("language", _language_tag),
    _Field("statement", _statement_ref),
    _Field("extensions", _extensions),
)
_ONLY_IN_2_0 = {
    name: f"{name} is an xAPI 2.0.0 property; it is not allowed in an xAPI 1.0.3 statement."
    for name in ("contextAgents", "contextGroups")
}


def _context(value: object, path: str, ctx: _Ctx) -> None:
    obj = _mapping(value, path, "context")
    allowed = [field.name for field in _CONTEXT_FIELDS]
    if ctx.version == V1:
        allowed = [name for name in allowed if name not in _ONLY_IN_2_0]
    _only(obj, path, allowed, "A context", _ONLY_IN_2_0)
    _fields(obj, path, ctx, _CONTEXT_FIELDS, "a context")


_ATTACHMENT_FIELDS = (
    _Field("usageType", _iri, required=True),
    _Field("display", _language_map, required=True),
    _Field("description", _language_map),
    _Field("contentType", _content_type, required=True),
    _Field("length", _length, required=True),
    _Field("sha2", _sha2, required=True),
    _Field("fileUrl", _irl),
)


def _attachment(value: object, path: str, ctx: _Ctx) -> None:
    _shape(value, path, ctx, "an attachment", _ATTACHMENT_FIELDS)


# -- Statement and SubStatement -----------------------------------------------------------------

_STATEMENT_FIELDS = (
    _Field("objectType", _equals("SubStatement")),  # a SubStatement's only; see _only below
    _Field("id", _uuid),
    _Field("actor", _actor, required=True),
    _Field("verb", _verb, required=True),
    _Field("object", _statement_object, required=True),
    _Field("result", _result),
    _Field("context", _context),
    _Field("timestamp", _timestamp),
    _Field("stored", _accepted),
    _Field("authority", _accepted),
    _Field("version", _version),
    _Field("attachments", _array_of(_attachment)),
)
_NOT_IN_SUBSTATEMENTS = {
    name: f"A SubStatement cannot have {name}." for name in ("id", "stored", "version", "authority")
}


def _statement(value: object, path: str, ctx: _Ctx) -> None:
    kind = "a SubStatement" if ctx.in_substatement else "a statement"
    obj = _mapping(value, path, _leaf(path) if ctx.in_substatement else "A statement")
    excluded = _NOT_IN_SUBSTATEMENTS if ctx.in_substatement else {"objectType": ""}
    allowed = [field.name for field in _STATEMENT_FIELDS if field.name not in excluded]
    _only(obj, path, allowed, kind, _NOT_IN_SUBSTATEMENTS)
    inner = obj.get("object")
    object_type = inner.get("objectType", "Activity") if isinstance(inner, dict) else ""
    ctx = replace(ctx, object_type=object_type if isinstance(object_type, str) else "")
    _fields(obj, path, ctx, _STATEMENT_FIELDS, kind)
