"""A real model (tests/data/brick-models/lighting.ttl) mapped onto Brick 1.4's types without a
server: the catalog is the part of Brick 1.4 the model reaches (tests/brick_catalog.py made it),
so the plan is the one ``brickyard import brick`` sends, every triple accounted for."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import rdflib

from shared.importer.plan import Plan, to_items
from tests.brick_catalog import CATALOGS
from tests.import_helpers import BRICK_MODELS

MODEL = "http://example.com/lighting#"
NOT_IN_1_4 = (
    "is not a class of schema collection Brick_1_4 (Brick 1.4, "
    "namespace https://brickschema.org/schema/Brick#)"
)


def catalog() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CATALOGS / "lighting-1.4.json").read_text())
    return data


def plan() -> Plan:
    return to_items(rdflib.Graph().parse(BRICK_MODELS / "lighting.ttl"), catalog())


def property_reason(predicate: str, ends: str = "its target has") -> str:
    return (
        f"brick:{predicate} is not a relation between entities in Brick 1.4, and {ends} no Brick "
        "class: a property (a unit, a timeseries, a value), not a relationship"
    )


def test_every_triple_of_the_model_is_in_an_entity_a_relationship_or_skipped() -> None:
    result = plan()
    assert result.triples == 68
    assert (result.entity_triples, result.relationships_read, len(result.skipped)) == (16, 21, 31)
    assert result.triples == result.entity_triples + result.relationships_read + len(result.skipped)


def test_each_node_with_a_class_of_the_release_is_an_entity_of_its_type() -> None:
    result = plan()
    types = {e.id.removeprefix(MODEL): e.body["entityType"].split("__")[1] for e in result.entities}
    assert types == {
        "driver_1": "Luminaire_Driver",
        "light_source_1_run_time": "Run_Time_Sensor",
        "lighting_system": "Lighting_System",
        "luminaire_1": "Luminaire",
        "luminaire_1_active_power": "Active_Power_Sensor",
        "luminaire_1_energy": "Energy_Sensor",
        "luminaire_1_lighting_level_command": "Lighting_Level_Command",
        "luminaire_1_on_off_command": "On_Off_Command",
        "luminaire_1_on_off_status": "On_Off_Status",
        "luminaire_1_run_time": "Run_Time_Sensor",
        "open_office": "Room",
        "open_office_illuminance": "Illuminance_Sensor",
        "open_office_occupancy": "Motion_Sensor",
    }
    # No rdfs:label in the model: each is named by its IRI's local name.
    assert all(e.body["entityName"] == e.id.removeprefix(MODEL) for e in result.entities)
    # Classes of a later release are refused, naming the class.
    assert {r.id.removeprefix(MODEL): r.reason for r in result.refused_entities} == {
        "driver_1_power_cycle_count": f"class brick:Power_Cycle_Count_Sensor {NOT_IN_1_4}",
        "light_source_1": f"class brick:Light_Source {NOT_IN_1_4}",
        "light_source_1_power_cycle_count": f"class brick:Power_Cycle_Count_Sensor {NOT_IN_1_4}",
    }


def test_each_relation_gets_the_type_whose_pair_fits_its_ends_most_closely() -> None:
    result = plan()
    kinds = Counter(r.body["relationshipType"].split("__")[1] for r in result.relationships)
    assert kinds == {
        "isPointOf_Point_Equipment": 6,
        "isPointOf_Point_Location": 2,
        "hasLocation_Equipment_Location": 2,
        "hasLocation_Collection_Location": 1,  # the lighting system is a Collection
        "hasPart_Collection_Equipment": 1,
        "hasPart_Equipment_Equipment": 1,
        "isPartOf_Equipment_Collection": 1,
        "isPartOf_Equipment_Equipment": 1,
    }
    # A relation touching a refused node is refused with that node's reason.
    assert len(result.refused_relationships) == 6
    assert all(
        " was not imported: class brick:" in r.reason and r.reason.endswith(NOT_IN_1_4)
        for r in result.refused_relationships
    )


def test_values_units_and_the_ontology_header_are_skipped_each_with_its_reason() -> None:
    assert plan().skipped_by_reason() == {
        property_reason("hasUnit"): 8,
        property_reason("hasUnit", "its source and target have"): 6,
        "brick:value has a literal value: a property, not a relationship": 6,
        "brick:expectedLifetime has a literal value: a property, not a relationship": 3,
        "owl:Ontology is not a Brick class": 1,
        "owl:imports is not a Brick relation": 1,
        property_reason("ratedPowerInput"): 1,
        property_reason("ratedVoltageOutput"): 1,
        property_reason("ratedVoltageInput"): 1,
        property_reason("ratedApparentPower"): 1,
        property_reason("ratedCorrelatedColorTemperature"): 1,
        property_reason("ratedLuminousFlux"): 1,
    }
