import pytest

from factoryshare.config import VARIABLES, ConfigError, Settings


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Settings.from_env({"FACTORYSHARE_ENV": "production"})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"FACTORYSHARE_ENV": "production", "SECRET_KEY": "short"})


def test_development_runs_on_embedded_sqlite_in_the_instance_folder(tmp_path):
    s = Settings.from_env({"FACTORYSHARE_INSTANCE": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'factoryshare.db'}"
    assert len(s.secret_key) >= 32


def test_a_plain_postgres_url_is_given_the_psycopg_driver():
    s = Settings.from_env({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"})
    assert s.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_a_bad_number_names_the_variable():
    with pytest.raises(ConfigError, match="TOKEN_TTL_MINUTES"):
        Settings.from_env({"TOKEN_TTL_MINUTES": "soon"})


def test_every_variable_read_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in VARIABLES if f"`{name}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("raw", ["-1", "fast", "inf"])
def test_a_work_per_second_that_is_no_number_of_zero_or_more_is_refused(raw):
    with pytest.raises(ConfigError, match="SOLVER_WORK_PER_SECOND"):
        Settings.from_env({"SOLVER_WORK_PER_SECOND": raw, "SECRET_KEY": "x" * 40})


def test_the_solve_is_on_the_wall_clock_unless_a_work_per_second_is_set():
    assert Settings.from_env({"SECRET_KEY": "x" * 40}).solver_work_per_second == 0.0
    settings = Settings.from_env({"SOLVER_WORK_PER_SECOND": "1.5", "SECRET_KEY": "x" * 40})
    assert settings.solver_work_per_second == 1.5
