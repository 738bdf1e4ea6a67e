"""Settings: environment over secrets.toml over defaults; production refuses unsafe values."""
import pytest

from dashboard import safety
from dashboard.settings import DEFAULT_SQLITE_PATH, load_settings


def test_defaults(tmp_path):
    s = load_settings(env={}, secrets_path=tmp_path / "none.toml")
    assert s.database_url == f"sqlite:///{DEFAULT_SQLITE_PATH}" and s.database_is_default
    assert (s.country, s.k, s.mode, s.demo_cases) == ("mali", 5, "demo", 10_000)


def test_environment_wins_over_secrets(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('database_url = "sqlite:///from-secrets.db"\nk = 11\ncountry = "mauritius"\n')
    s = load_settings(env={"NRM_K": "7"}, secrets_path=secrets)
    assert (s.database_url, s.k, s.country, s.database_is_default) == ("sqlite:///from-secrets.db", 7, "mauritius", False)
    s = load_settings(env={"NRM_DATABASE_URL": "postgresql+psycopg://x@h/db"}, secrets_path=secrets)
    assert s.database_url == "postgresql+psycopg://x@h/db" and s.sources["database_url"] == "environment"


def test_bad_values_are_named(tmp_path):
    with pytest.raises(ValueError, match="NRM_K must be int"):
        load_settings(env={"NRM_K": "five"}, secrets_path=tmp_path / "none.toml")
    with pytest.raises(ValueError, match="NRM_MODE must be 'demo' or 'production'"):
        load_settings(env={"NRM_MODE": "prod"}, secrets_path=tmp_path / "none.toml")
    with pytest.raises(ValueError, match="at least 2"):
        load_settings(env={"NRM_K": "1"}, secrets_path=tmp_path / "none.toml")


GOOD = {"NRM_MODE": "production", "NRM_DATABASE_URL": "postgresql+psycopg://x@h/db",
        "NRM_COOKIE_KEY": "c" * 40, "NRM_HASH_KEY": "h" * 40}


def test_production_accepts_safe_settings(tmp_path):
    assert safety.setting_problems(load_settings(env=GOOD, secrets_path=tmp_path / "n.toml")) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"NRM_DATABASE_URL": ""}, "No database is configured"),
        ({"NRM_COOKIE_KEY": ""}, "The cookie key is the published demo key"),
        ({"NRM_COOKIE_KEY": "short"}, "The cookie key is shorter than 32 bytes."),
        ({"NRM_HASH_KEY": ""}, "The identity hash key is the published demo key"),
        ({"NRM_HASH_KEY": "short"}, "The identity hash key is shorter than 32 bytes."),
        ({"NRM_HASH_KEY": "c" * 40}, "must be different secrets"),
    ],
)
def test_production_refuses_each_unsafe_setting(tmp_path, change, problem):
    problems = safety.setting_problems(load_settings(env={**GOOD, **change}, secrets_path=tmp_path / "n.toml"))
    assert len(problems) == 1 and problem in problems[0]
