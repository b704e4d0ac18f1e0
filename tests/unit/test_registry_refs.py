"""$ref walking and JSON-pointer edge cases, and the $id grammar's corners (issue 14's gaps)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import BadRequest
from shared.registry.ids import (
    SchemaId,
    dotted_name_problem,
    parse_schema_id,
    relative_id,
    semver_problem,
    validate_organization_name,
)
from shared.registry.refs import (
    ExternalRef,
    RefSite,
    external_refs,
    find_refs,
    is_local,
    map_refs,
    require_pinned_refs,
    resolves_locally,
)


def refused(call: Any, *args: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value.message


# JSON pointers -------------------------------------------------------------------------------

DOC: dict[str, Any] = {
    "allOf": [{"type": "string"}],
    "definitions": {"a~b": {}, "a/b": {}, "a%b": {}, "~1": {}, "": {"x": {}}},
    "examples": [{"$ref": "#/nowhere"}],
}


@pytest.mark.parametrize(
    "ref",
    [
        "#",
        "#anchor",  # a plain-name fragment: the validator's business
        "#/allOf/0",
        "#/allOf/0/type",
        "#/definitions/a~0b",
        "#/definitions/a~1b",
        "#/definitions/a%25b",
        "#/definitions/~01",  # '~0' then '1': the key '~1', not '/'
        "#/definitions/",  # the empty key
        "#/definitions//x",
        "#/examples/0",  # data may be pointed at, even though it is no schema
    ],
)
def test_pointers_that_resolve(ref: str) -> None:
    assert resolves_locally(DOC, ref) is True


@pytest.mark.parametrize(
    "ref",
    [
        "#/allOf/1",  # one past the end
        "#/allOf/2",
        "#/allOf/-1",
        "#/allOf/-",
        "#/allOf/01",  # RFC 6901: no leading zeros
        "#/allOf/²",  # a digit to str.isdigit(), not to int()
        "#/allOf/\N{FULLWIDTH DIGIT ONE}",  # a full-width digit
        "#/allOf/ 0",
        "#/allOf/0/type/x",  # into a string
        "#/definitions/a~b",  # an unescaped '~' stays '~'... and 'a~b' is the key: see below
        "#/definitions/ab",
        "#/definitions/a%b",  # '%' must be spelled %25
        "#/allOf/0/",
    ],
)
def test_pointers_to_nothing(ref: str) -> None:
    if ref == "#/definitions/a~b":
        # '~' not followed by 0 or 1 is kept as is, and so finds the key literally.
        assert resolves_locally(DOC, ref) is True
        return
    if ref == "#/definitions/a%b":
        assert resolves_locally(DOC, ref) is True  # read literally too
        return
    assert resolves_locally(DOC, ref) is False


def test_an_index_one_past_the_end_is_a_400_naming_the_ref() -> None:
    schema = {"allOf": [{"type": "string"}], "properties": {"a": {"$ref": "#/allOf/1"}}}
    assert refused(external_refs, schema) == (
        "The $ref '#/allOf/1' at /properties/a points to nothing in this schema"
    )
    schema["properties"]["a"]["$ref"] = "#/allOf/0"
    assert external_refs(schema) == []


def test_a_ref_at_the_root_is_named_the_root() -> None:
    assert refused(external_refs, {"$ref": "#/nothing"}) == (
        "The $ref '#/nothing' at the root points to nothing in this schema"
    )
    assert RefSite("x", "").where == "the root"
    assert RefSite("x", "/a").where == "/a"


def test_refs_inside_examples_and_other_data_are_data() -> None:
    schema = {
        "examples": [{"$ref": "#/nowhere"}],
        "const": {"$ref": "x"},
        "enum": [{"$ref": "y"}],
        "default": {"$ref": "z"},
        "properties": {"examples": {"$ref": "my.org-A"}},
    }
    assert [site.ref for site in find_refs(schema)] == ["my.org-A"]
    assert [r.target for r in external_refs(schema)] == [SchemaId("my.org", "A")]


def test_pointers_escape_keys_and_walk_name_maps() -> None:
    schema = {
        "properties": {"a/b~c": {"$ref": "#"}, "$ref": {"$ref": "#"}},
        "patternProperties": {"^x": {"$ref": "#"}},
        "dependencies": {"d": {"$ref": "#"}},
        "dependentSchemas": {"e": {"$ref": "#"}},
        "$defs": {"f": {"items": [{"$ref": "#"}]}},
        "not": {"$ref": 5},  # not a string: no $ref
    }
    assert [site.pointer for site in find_refs(schema)] == [
        "/properties/a~1b~0c",
        "/properties/$ref",
        "/patternProperties/^x",
        "/dependencies/d",
        "/dependentSchemas/e",
        "/$defs/f/items/0",
    ]


def test_a_name_map_that_is_not_an_object_is_walked_as_a_value() -> None:
    schema = {"properties": [{"$ref": "#"}], "definitions": "text"}
    assert [site.pointer for site in find_refs(schema)] == ["/properties/0"]


def test_map_refs_rewrites_copies_and_keeps_the_rest() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "my.org-A"}, "b": {"type": "string"}},
        "enum": [{"$ref": "kept"}],
        "items": [{"$ref": "#/definitions/x"}, 3],
    }
    copy = map_refs(schema, lambda site: f"<{site.ref}@{site.pointer}>")
    assert copy == {
        "type": "object",
        "properties": {"a": {"$ref": "<my.org-A@/properties/a>"}, "b": {"type": "string"}},
        "enum": [{"$ref": "kept"}],
        "items": [{"$ref": "<#/definitions/x@/items/0>"}, 3],
    }
    assert schema["properties"]["a"]["$ref"] == "my.org-A"  # the original is untouched
    assert map_refs("text", lambda site: "x") == "text"


def test_local_and_external() -> None:
    assert is_local("#") and is_local("#/definitions/a")
    assert not is_local("my.org-A") and not is_local(" #/a")


# External refs, $ids and their spaces -------------------------------------------------------


def test_refs_and_ids_with_surrounding_spaces() -> None:
    refs = external_refs({"properties": {"a": {"$ref": "  my.org-A-1.0.0 "}}})
    assert [r.target for r in refs] == [SchemaId("my.org", "A", "1.0.0")]
    assert refs[0].key == "my.org-A-1.0.0"
    assert parse_schema_id(" my.org-A\n") == SchemaId("my.org", "A")
    assert " #/definitions/a" not in [r.site.ref for r in refs]
    message = refused(external_refs, {"properties": {"a": {"$ref": " #/definitions/a"}}})
    assert message.startswith("The $ref ' #/definitions/a' at /properties/a has a fragment")


def test_a_registered_ref_with_a_fragment_is_refused() -> None:
    assert refused(external_refs, {"items": {"$ref": "my.org-A#/definitions/x"}}) == (
        "The $ref 'my.org-A#/definitions/x' at /items has a fragment: a $ref to a registered "
        "schema must be its $id alone"
    )


def test_an_id_ending_with_a_dash_is_refused() -> None:
    assert refused(parse_schema_id, "my.org-A-") == (
        "Invalid $id 'my.org-A-': it ends with '-' but no semantic version follows. "
        "Expected <organization name>-<schema name>[-<semantic version>]"
    )


def test_the_key_of_a_registered_url_ref_is_its_id() -> None:
    url = "https://repo-prod.prod.sagebase.org/repo/v1/schema/type/registered/my.org-A"
    ref = ExternalRef(RefSite(url, "/p"), SchemaId("my.org", "A"))
    assert ref.key == "my.org-A"


@pytest.mark.parametrize("version", ["1.0.0+", "1.0.0+a..b", "1.0.0+a+b", "1.0.0-", "1.0.0-a..b"])
def test_invalid_build_or_pre_release_metadata(version: str) -> None:
    message = refused(parse_schema_id, f"my.org-A-{version}")
    assert message == (
        f"Invalid $id 'my.org-A-{version}': the pre-release or build part of the semantic "
        f"version '{version}' is invalid: its identifiers are letters, digits and '-', "
        "separated by '.', and numeric pre-release identifiers have no leading zeros. "
        "Expected <organization name>-<schema name>[-<semantic version>]"
    )


def test_a_ref_with_invalid_build_metadata_is_named() -> None:
    message = refused(external_refs, {"items": {"$ref": "my.org-A-1.0.0+"}})
    assert message.startswith(
        "The $ref 'my.org-A-1.0.0+' at /items is neither local ('#/definitions/...') nor the "
        "$id of a registered schema: Invalid $ref 'my.org-A-1.0.0+': the pre-release or build"
    )


@pytest.mark.parametrize(
    ("version", "valid"),
    [
        ("0.0.0", True),
        ("10.20.30", True),
        ("1.0.0-0", True),
        ("1.0.0-0a", True),
        ("1.0.0-00a", True),
        ("1.0.0-x-y.z", True),
        ("1.0.0+001", True),  # build identifiers may have leading zeros
        ("1.0.0-alpha+b.2", True),
        ("1.0.0-00", False),
        ("01.0.0", False),
        ("1.0", False),
        ("1.0.0.0", False),
        ("v1.0.0", False),
        ("1.0.x", False),
        ("\N{FULLWIDTH DIGIT ONE}.0.0", False),
        ("1.0.0\n", False),
        ("1.0.1\N{FULLWIDTH DIGIT TWO}", False),
        ("1.0.0-a\N{FULLWIDTH DIGIT TWO}", False),
    ],
)
def test_semantic_versions(version: str, valid: bool) -> None:
    assert (semver_problem(version) is None) is valid


def test_semver_problems_say_what_is_wrong() -> None:
    assert semver_problem("1.2") == (
        "the semantic version '1.2' must start with MAJOR.MINOR.PATCH, three numbers "
        "separated by '.' (see https://semver.org)"
    )
    assert (
        semver_problem("1.02.3-x") == "the semantic version '1.02.3-x' has a leading zero in '02'"
    )
    assert semver_problem("1.2.3+x+y") is not None and "build part" in semver_problem("1.2.3+x+y")
    assert "MAJOR.MINOR.PATCH" in semver_problem("1.².3")


def test_dotted_names() -> None:
    assert dotted_name_problem("a.b1.C", "name") is None
    assert dotted_name_problem("", "name") == "the name is empty"
    assert dotted_name_problem(".a", "x") == (
        "the x '.a' has an empty part (a leading, trailing or doubled '.')"
    )
    assert dotted_name_problem("a..b", "x") is not None
    assert dotted_name_problem("é.b", "x") == (
        "the x 'é.b' has a part 'é' that does not start with a letter"
    )
    assert dotted_name_problem("ab.c$d", "x") == (
        "the x 'ab.c$d' has a part 'c$d' containing '$'; only letters and digits are allowed, "
        "with '.' between parts"
    )
    assert dotted_name_problem("aé", "x") is not None


def test_ids_name_the_label_and_the_text() -> None:
    assert refused(parse_schema_id, 5, "$ref") == "The $ref must be a string"
    message = refused(parse_schema_id, "abcdef", "$ref")
    assert message == (
        "Invalid $ref 'abcdef': there is no '-' between the organization name and the "
        "schema name. Expected <organization name>-<schema name>[-<semantic version>]"
    )
    assert relative_id("a/b/c-d") == "c-d" and relative_id("x") == "x"
    assert str(SchemaId("a", "b")) == "a-b"
    assert str(SchemaId("a", "b", "1.0.0")) == "a-b-1.0.0"


@pytest.mark.parametrize(
    "name", ["SageBioNetworks.org", "org.SAGEBIONETWORKS", "xSagebionetworksx", "sagebionetwork"]
)
def test_the_reserved_name_in_any_case(name: str) -> None:
    assert refused(validate_organization_name, name) == (
        "The name 'sagebionetworks' is reserved, and cannot be included in an Organization's name"
    )


def test_organization_name_bounds_and_messages() -> None:
    assert validate_organization_name("abcdef") == "abcdef"
    assert validate_organization_name("a" * 250) == "a" * 250
    assert refused(validate_organization_name, "abcde") == (
        "Organization name must be 6 to 250 characters; 'abcde' has 5"
    )
    assert refused(validate_organization_name, 7) == (
        "organizationName is required and must be a string"
    )
    assert refused(validate_organization_name, "a-bcdef") == (
        "Invalid organizationName: the organization name 'a-bcdef' has a part 'a-bcdef' "
        "containing '-'; only letters and digits are allowed, with '.' between parts"
    )


def test_pinned_refs() -> None:
    pinned = external_refs({"properties": {"a": {"$ref": "my.org-A-1.0.0"}}})
    require_pinned_refs(SchemaId("my.org", "B", "1.0.0"), pinned)
    loose = external_refs({"items": {"$ref": "my.org-A"}})
    assert refused(require_pinned_refs, SchemaId("my.org", "B", "2.0.0"), loose) == (
        "The schema $id includes a semantic version, therefore all sub-schema references "
        "($ref) must also include a semantic version. The following $ref does not include a "
        "semantic version: 'my.org-A' (at /items)"
    )
