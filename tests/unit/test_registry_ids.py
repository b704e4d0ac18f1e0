"""The $id grammar, $ref discovery, metaschema checks and hashing: no database needed."""

from __future__ import annotations

import hashlib

import pytest

from shared.errors import BadRequest
from shared.registry.ids import SchemaId, parse_schema_id, validate_organization_name
from shared.registry.metaschema import canonical_json, check_against_metaschema, sha256_hex
from shared.registry.refs import external_refs, find_refs, require_pinned_refs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("org.myorg-path.SomeClass", SchemaId("org.myorg", "path.SomeClass")),
        (
            "org.myorg-path.SomeClass-1.2.3-alpha+1234f",
            SchemaId("org.myorg", "path.SomeClass", "1.2.3-alpha+1234f"),
        ),
        (
            "my.organization-foo.Bar.json-0.1.2",
            SchemaId("my.organization", "foo.Bar.json", "0.1.2"),
        ),
        (
            "https://repo-prod.prod.sagebase.org/repo/v1/schema/type/registered/a1.b2-C3-10.0.0",
            SchemaId("a1.b2", "C3", "10.0.0"),
        ),
        ("abcdef-X-1.0.0-rc.1.x-y", SchemaId("abcdef", "X", "1.0.0-rc.1.x-y")),
    ],
)
def test_valid_ids_parse_into_their_parts(text: str, expected: SchemaId) -> None:
    parsed = parse_schema_id(text)
    assert parsed == expected
    assert str(parsed) == text.rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("org.valid-name-0", "semantic version '0' must start with MAJOR.MINOR.PATCH"),
        ("org.myorg-path.SomeClass-1.2.03", "leading zero in '03'"),
        ("org.myorg-path.SomeClass-", "ends with '-' but no semantic version follows"),
        ("org.myorg-path.SomeClass.", "schema name 'path.SomeClass.' has an empty part"),
        ("foo.123.bar-Thing", "organization name 'foo.123.bar' has a part '123' that does not"),
        ("my.org-foo.123.bar", "schema name 'foo.123.bar' has a part '123' that does not"),
        ("1abc", "organization name '1abc' has a part '1abc' that does not start with a letter"),
        ("abcdef", "no '-' between the organization name and the schema name"),
        ("my_org-Thing", "part 'my_org' containing '_'"),
        ("my.org-Thing-1.0.0-01", "pre-release or build part"),
        ("", "organization name is empty"),
    ],
)
def test_invalid_ids_say_which_part_is_wrong(text: str, says: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_schema_id(text)
    assert says in caught.value.message
    assert f"Invalid $id '{text}'" in caught.value.message


def test_a_non_string_id_is_refused() -> None:
    with pytest.raises(BadRequest, match="must be a string"):
        parse_schema_id(42)


@pytest.mark.parametrize("name", ["my.organization", "abcdef", "A" * 250, "  trimmed.org  "])
def test_valid_organization_names(name: str) -> None:
    assert validate_organization_name(name) == name.strip()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("abcde", "6 to 250 characters"),
        ("a" * 251, "6 to 250 characters"),
        ("my.org-x", "containing '-'"),
        ("1organization", "does not start with a letter"),
        ("org.sagebionetworks.x", "reserved"),
        (None, "required"),
    ],
)
def test_invalid_organization_names(name: object, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        validate_organization_name(name)


def test_refs_are_found_in_subschemas_but_not_in_data_keywords() -> None:
    schema = {
        "properties": {
            "a": {"$ref": "my.org-A"},
            "enum": {"items": [{"$ref": "#/definitions/x"}]},
            "$ref": {"type": "string"},
        },
        "enum": [{"$ref": "not.a-Ref"}],
        "default": {"$ref": "not.a-Ref"},
        "definitions": {"x": {"allOf": [{"$ref": "my.org-B-1.0.0"}]}},
    }
    sites = {(site.ref, site.pointer) for site in find_refs(schema)}
    assert sites == {
        ("my.org-A", "/properties/a"),
        ("#/definitions/x", "/properties/enum/items/0"),
        ("my.org-B-1.0.0", "/definitions/x/allOf/0"),
    }
    assert [ref.target for ref in external_refs(schema)] == [
        SchemaId("my.org", "A"),
        SchemaId("my.org", "B", "1.0.0"),
    ]


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("#/definitions/missing", "'#/definitions/missing' at /properties/a points to nothing"),
        ("my.org-Thing-1.0", "at /properties/a is neither local"),
        ("http://example.com/thing.json", "neither local ('#/definitions/...') nor the $id"),
        ("my.org-Thing#/definitions/a", "has a fragment"),
    ],
)
def test_bad_refs_are_named_with_their_location(ref: str, says: str) -> None:
    with pytest.raises(BadRequest) as caught:
        external_refs({"properties": {"a": {"$ref": ref}}})
    assert says in caught.value.message


def test_local_refs_that_resolve_are_accepted() -> None:
    schema = {
        "definitions": {"a/b": {"type": "string"}},
        "$defs": {"c": {"type": "integer"}},
        "properties": {
            "x": {"$ref": "#/definitions/a~1b"},
            "y": {"$ref": "#/$defs/c"},
            "z": {"$ref": "#"},
        },
    }
    assert external_refs(schema) == []


def test_a_pinned_schema_needs_pinned_refs() -> None:
    refs = external_refs({"properties": {"a": {"$ref": "my.org-A"}}})
    require_pinned_refs(SchemaId("my.org", "B"), refs)  # unpinned schema: anything goes
    with pytest.raises(BadRequest) as caught:
        require_pinned_refs(SchemaId("my.org", "B", "1.0.0"), refs)
    assert "does not include a semantic version: 'my.org-A' (at /properties/a)" in str(caught.value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"},
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "prefixItems": [{"type": "string"}],
        },
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
    ],
)
def test_valid_json_schemas_pass_their_metaschema(schema: dict[str, object]) -> None:
    check_against_metaschema(schema)


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "integer2"}, "(draft-07): 'integer2' is not valid under any"),
        ({"properties": {"a": {"minLength": -1}}}, "at /properties/a/minLength"),
        ({"required": "a"}, "'a' is not of type 'array' (at /required)"),
        ({"$schema": "http://example.com/my-dialect"}, "Unsupported $schema"),
    ],
)
def test_invalid_json_schemas_are_refused_with_where(schema: dict[str, object], says: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_against_metaschema(schema)
    assert says in caught.value.message


def test_sha256_is_over_the_canonical_form() -> None:
    one = {"b": [1, 2], "a": "é"}
    other = {"a": "é", "b": [1, 2]}
    assert canonical_json(one) == '{"a":"é","b":[1,2]}'
    assert sha256_hex(one) == sha256_hex(other)
    assert sha256_hex(one) == hashlib.sha256('{"a":"é","b":[1,2]}'.encode()).hexdigest()
