import pytest

from runner.actions.inputs import definition_problems, validate_inputs

ACTION = {
    "spec": {
        "inputs": [
            {"name": "service", "type": "string", "required": True},
            {"name": "notes", "type": "textarea"},
            {"name": "replicas", "type": "number", "default": 1},
            {"name": "dry_run", "type": "boolean", "default": False},
            {"name": "environment", "type": "select", "options": ["staging", "production"],
             "required": True},
            {"name": "level", "type": "select", "options": [1, 2, 3]},
        ]
    }
}


def test_valid_inputs_get_defaults():
    result = validate_inputs(ACTION, {"service": "api", "environment": "staging"})
    assert result.ok
    assert result.values == {"service": "api", "environment": "staging", "replicas": 1,
                             "dry_run": False}


def test_every_problem_is_reported_once_per_field():
    result = validate_inputs(ACTION, {"notes": 5, "replicas": "3", "dry_run": "false",
                                      "environment": "qa", "level": True, "colour": "red"})
    assert result.values == {}
    assert result.errors == {
        "service": "is required",
        "notes": "must be a string",
        "replicas": "must be a number",
        "dry_run": "must be true or false",
        "environment": "must be one of: staging, production",
        "level": "must be one of: 1, 2, 3",
        "colour": "unknown input",
    }


@pytest.mark.parametrize("value", [True, 1.5, "1.0", "one"])
def test_select_refuses_values_that_are_not_options(value):
    result = validate_inputs(ACTION, {"service": "a", "environment": "staging", "level": value})
    assert "level" in result.errors


def test_select_accepts_an_option_spelled_as_text_as_forms_send_it():
    result = validate_inputs(ACTION, {"service": "a", "environment": "staging", "level": "2"})
    assert result.values["level"] == 2


def test_numbers_and_empty_strings():
    result = validate_inputs(ACTION, {"service": "", "environment": "production",
                                      "replicas": 2.5, "level": 2})
    assert result.errors == {"service": "is required"}
    assert validate_inputs(ACTION, {"service": "a", "environment": "production",
                                    "replicas": 2.5}).values["replicas"] == 2.5


def test_inputs_must_be_an_object():
    assert validate_inputs(ACTION, ["a"]).errors == {
        "inputs": "must be an object of input names to values"
    }


def test_missing_inputs_section_means_no_inputs():
    assert validate_inputs({"spec": {}}, None).ok
    assert validate_inputs({"spec": {}}, {"x": 1}).errors == {"x": "unknown input"}


def test_definition_problems():
    broken = {"spec": {"inputs": [
        {"name": "a", "type": "select"},
        {"name": "a", "type": "colour"},
        {"type": "string"},
        {"name": "n", "type": "number", "default": "ten"},
    ]}}
    problems = definition_problems(broken)
    assert any("options" in p for p in problems)
    assert any("duplicate input name" in p for p in problems)
    assert any("'colour'" in p for p in problems)
    assert any("missing required key 'name'" in p for p in problems)
    assert any("'ten' does not fit a number input" in p for p in problems)
    assert definition_problems(ACTION) == []
