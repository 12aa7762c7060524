"""The console logger of `clientele run`: one line per event, no stack traces; the full log, tracebacks
included, goes to `<logs_dir>/run-<run id>.log`, which the CLI names when something fails."""

import logging
from pathlib import Path

import dagster as dg

CONSOLE_LOGGER = "clientele_console"


class _FirstLine(logging.Formatter):
    """The first line of a record: Dagster's failure messages carry the cause and a stack trace below it."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).split("\n", 1)[0]


@dg.logger(
    config_schema={
        "log_level": dg.Field(str, default_value="INFO", description="Level of the console lines."),
        "logs_dir": dg.Field(str, is_required=False, description="Where run-<run id>.log (tracebacks too) goes."),
    },
    description="One concise line per event on the console; the full log in a file.",
)
def clientele_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger("clientele", level=logging.DEBUG)
    console = logging.StreamHandler()
    console.setLevel(config["log_level"].upper())
    console.setFormatter(_FirstLine("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    logger.addHandler(console)
    if config.get("logs_dir") and init_context.run_id:
        path = Path(config["logs_dir"]) / f"run-{init_context.run_id}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        full = logging.FileHandler(path, encoding="utf-8")
        full.setLevel(logging.DEBUG)
        full.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(full)
    return logger


@dg.definitions
def logger_definitions() -> dg.Definitions:
    return dg.Definitions(loggers={CONSOLE_LOGGER: clientele_console})
