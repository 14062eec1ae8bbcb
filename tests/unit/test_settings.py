"""One declaration per setting: the run options (and the trigger form made from them), the deployment's
environment variables (read when a task runs), and each connection's extras; a bad value names itself."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from include.sync import declared
from include.sync.runs import DEPLOYMENT_DEFAULT, RunOptions, from_form, on_form
from include.sync.settings import Schedule, Settings, variables

ROOT = Path(__file__).resolve().parents[2]


# --- run options -> the trigger form --------------------------------------------------------------------

def test_the_form_is_generated_from_the_declared_options() -> None:
    from ajera_crm import form

    params = form.params()
    assert list(params) == list(on_form())  # the form's order is the declaration order
    for name, spec in on_form().items():
        schema = params[name].schema
        assert (schema["title"], schema["section"], params[name].description) == \
            (spec.title, spec.section, spec.description), name
        if spec.minimum is not None:
            assert schema["minimum"] == spec.minimum, name
    assert params["batch_size"].value == RunOptions.batch_size == 500
    assert params["batch_size"].schema["type"] == "integer"
    assert params["contact_cap"].schema["maximum"] == 100
    assert params["dry_run"].schema["type"] == "boolean"
    record_types = params["record_types"].schema
    assert record_types["type"] == "array" and record_types["minItems"] == 1
    assert set(record_types["values_display"]) == set(record_types["items"]["enum"]) == set(RunOptions.record_types)


def test_an_option_the_deployment_sets_defaults_to_the_deployment_on_the_form() -> None:
    from ajera_crm import form

    mode = form.params()["mode"]
    assert mode.value == DEPLOYMENT_DEFAULT
    assert mode.schema["enum"] == [DEPLOYMENT_DEFAULT, "two_way", "one_way"]
    assert "AJERA_CRM_SYNC_MODE" in mode.schema["values_display"][DEPLOYMENT_DEFAULT]


def test_options_off_the_form_are_set_by_the_deployment_or_the_run() -> None:
    off_form = {f.name for f in fields(RunOptions)} - set(on_form())
    assert "clock_skew_seconds" in off_form and "window_start" in off_form
    for name, spec in declared.specs(RunOptions).items():
        assert spec.description, name
        assert spec.section is None or spec.title, name


# --- form values -> RunOptions --------------------------------------------------------------------------

def test_form_values_become_typed_options() -> None:
    options = from_form({"record_types": ["project", "firm"], "mode": "one_way", "dry_run": "true",
                         "batch_size": "20", "project_contact_cap": 0, "contact_cap": None, "unknown": 1})
    assert options.record_types == ("firm", "project")  # dependency order
    assert (options.mode, options.dry_run, options.batch_size) == ("one_way", True, 20)
    assert options.project_contact_cap == 0  # 0 is a value
    assert options.contact_cap == RunOptions.contact_cap  # left empty: the default


def test_the_deployment_default_is_resolved_when_the_run_starts() -> None:
    deployment = Settings.from_env({"AJERA_CRM_SYNC_MODE": "one_way", "AJERA_CRM_CLOCK_SKEW_SECONDS": "30"})
    options = from_form({"mode": DEPLOYMENT_DEFAULT, "clock_skew_seconds": 5}, deployment.option_defaults)
    assert (options.mode, options.clock_skew_seconds) == ("one_way", 30)  # the form cannot set the skew
    assert from_form({"mode": "two_way"}, deployment.option_defaults).mode == "two_way"  # the form wins
    assert from_form({"mode": DEPLOYMENT_DEFAULT}).mode == RunOptions.mode


@pytest.mark.parametrize(("values", "message"), [
    ({"batch_size": "abc"}, "option batch_size must be an integer, got 'abc'"),
    ({"batch_size": 0}, "option batch_size must be at least 1, got 0"),
    ({"contact_cap": 101}, "option contact_cap must be at most 100, got 101"),
    ({"mode": "three_way"}, "option mode must be one of two_way, one_way, got 'three_way'"),
    ({"record_types": ["firm", "invoice"]}, "option record_types must be one of firm, contact, employee, "
                                            "vendor, project, got 'invoice'"),
    ({"dry_run": "perhaps"}, "option dry_run must be true or false, got 'perhaps'"),
    ({"batch_size": 2.5}, "option batch_size must be an integer, got 2.5"),
])
def test_a_bad_form_value_names_the_option(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        from_form(values)


def test_run_options_check_their_bounds_wherever_they_are_built() -> None:
    with pytest.raises(ValueError, match="option poison_after must be at least 1"):
        RunOptions(poison_after=0)
    options = RunOptions(record_types=("project", "firm"))
    assert RunOptions.from_json(options.to_json()) == options


# --- the deployment's settings --------------------------------------------------------------------------

def test_settings_are_read_from_the_environment_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AJERA_CRM_LOCK_TTL_SECONDS", raising=False)
    assert Settings.from_env().lock_ttl_seconds == 1800
    monkeypatch.setenv("AJERA_CRM_LOCK_TTL_SECONDS", "5")
    monkeypatch.setenv("AJERA_CRM_MAX_FAILED_PERCENT", "12.5")
    monkeypatch.setenv("ALERT_EMAIL_TO", "a@example.com, b@example.com")
    monkeypatch.setenv("AJERA_CRM_RETRY_DELAY_SECONDS", "")  # empty: the default
    settings = Settings.from_env()
    assert settings.lock_ttl_seconds == 5
    assert settings.option_defaults["max_failed_percent"] == 12.5
    assert settings.alert_email_recipients == ["a@example.com", "b@example.com"]
    assert settings.schedule == Schedule()


@pytest.mark.parametrize(("env", "message"), [
    ({"AJERA_CRM_POISON_AFTER": "x"}, "AJERA_CRM_POISON_AFTER must be an integer, got 'x'"),
    ({"AJERA_CRM_ALERT_QUARANTINED": "-1"}, "AJERA_CRM_ALERT_QUARANTINED must be at least 0, got -1"),
    ({"AJERA_CRM_SYNC_MODE": "both"}, "AJERA_CRM_SYNC_MODE must be one of two_way, one_way, got 'both'"),
    ({"AJERA_CRM_LOCK_WAIT_SECONDS": "soon"}, "AJERA_CRM_LOCK_WAIT_SECONDS must be a number, got 'soon'"),
])
def test_a_bad_environment_value_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings.from_env(env)


def test_the_dag_file_reads_only_the_schedule_at_parse_time() -> None:
    source = (ROOT / "dags" / "ajera_crm_sync.py").read_text()
    assert "os.environ" not in source and "Settings" not in source
    assert Schedule.from_env({"AJERA_CRM_SYNC_CRON": "*/5 * * * *"}).cron == "*/5 * * * *"


def test_every_variable_is_documented_and_read_nowhere_else() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in variables():
        assert f"`{name}`" in readme, f"{name} is not in the README"
    for folder in ("include", "plugins", "dags"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert "os.environ.get(" not in text and "os.getenv(" not in text, path


# --- connection extras ----------------------------------------------------------------------------------

def test_extras_are_parsed_into_typed_values() -> None:
    from ajera_crm.extras import AjeraExtras, VantagepointExtras, parse

    ajera = parse(AjeraExtras, "ajera_default", {"api_id": "abc=", "timeout": "2", "rate_limit_rps": 0})
    assert (ajera.api_id, ajera.timeout, ajera.rate_limit_rps, ajera.page_size) == ("abc=", 2.0, 0.0, 500)
    assert ajera.retry.attempts == 5 and ajera.rate_limit_scope is None
    crm = parse(VantagepointExtras, "vantagepoint_default",
                {"database": "DB", "client_id": "id", "client_secret": "s3cret", "retry_attempts": 2})
    assert (crm.database, crm.client_secret, crm.retry.attempts) == ("DB", "s3cret", 2)


@pytest.mark.parametrize(("extra", "message"), [
    ({"api_id": "a", "timeout": "abc"}, """connection ajera_default: extra "timeout" must be a number, got 'abc'"""),
    ({"timeout": 3}, 'connection ajera_default: extra "api_id" is required: The base64 id of the API URL.'),
    ({"api_id": "a", "rate_limit_scope": "cluster"},
     """connection ajera_default: extra "rate_limit_scope" must be one of redis, host, task, got 'cluster'"""),
    ({"api_id": "a", "page_size": 0}, 'connection ajera_default: extra "page_size" must be at least 1, got 0'),
])
def test_a_bad_extra_names_the_connection_and_the_field(extra: dict[str, object], message: str) -> None:
    from ajera_crm.extras import AjeraExtras, parse

    with pytest.raises(ValueError, match=re.escape(message)):
        parse(AjeraExtras, "ajera_default", extra)


def test_a_bad_secret_extra_is_not_repeated(caplog: pytest.LogCaptureFixture) -> None:
    from ajera_crm.extras import VantagepointExtras, parse

    with pytest.raises(ValueError) as raised:
        parse(VantagepointExtras, "vantagepoint_default",
              {"database": "DB", "client_id": "id", "client_secret": ["not", "a", "string", "s3cret"]})
    assert 'connection vantagepoint_default: extra "client_secret" must be a string' in str(raised.value)
    assert "s3cret" not in str(raised.value)
    with pytest.raises(ValueError, match='extra "client_secret" is required'):
        parse(VantagepointExtras, "vantagepoint_default", {"database": "DB", "client_id": "id"})
    parse(VantagepointExtras, "vp", {"database": "DB", "client_id": "id", "client_secret": "x", "timout": 3})
    assert "timout" in caplog.text  # a typo is logged, not silently ignored
