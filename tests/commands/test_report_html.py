"""`report --html`: the page from a collector's output directory (state, alerts.jsonl, drift in stats.json),
opened in Debian's Chromium through WebDriver: it renders, shows every workload and every event, runs no
script (hostile workload names stay text) and logs no console error."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.commands.results import write_results
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.compare import ActionUniverse, GrantedPolicy
from collector_runtime.core.records import DENIED
from collector_runtime.core.rendering import FlushRenderer
from collector_runtime.data import load_action_map
from collector_runtime.outputs.alert_delivery import Delivery
from collector_runtime.outputs.alert_service import AlertService
from collector_runtime.outputs.alert_sinks import FileSink
from collector_runtime.settings import OutputOptions
from tests.conftest import observed
from tests.helpers import assert_one_error_line, run_cli

HOSTILE = '<script>document.title="pwned"</script>"><img src=x onerror=alert(1)>'
ROLE = "arn:aws:iam::123456789012:role/orders"
BUCKET = "arn:aws:s3:::reports"
T0 = 1_796_547_600_000  # 2026-12-06T09:00:00Z


def collector_output(directory: Path) -> list[dict[str, Any]]:
    """An output directory as a collector with --alerts-file and --role-map leaves it; the events written."""
    aggregator = Aggregator(load_action_map())
    renderer = FlushRenderer(aggregator.action_map, OutputOptions().policy, max_policy_chars=6144)
    role = GrantedPolicy("inline:p", {"Statement": [{"Effect": "Allow", "Action": "s3:*Object", "Resource": "*"}]})
    service = AlertService(
        [Delivery(FileSink(directory / "alerts.jsonl"))],
        output_dir=str(directory),
        role_map={"orders": ROLE},
        fetch_role=lambda arn: [role],
        universe=ActionUniverse(aggregator.action_map.all_actions()),
        unused_after=0,
    )
    for day in ("2026-12-01", "2026-12-02"):
        aggregator.add(observed("S3", "GetObject", "orders", resources=(f"{BUCKET}/daily/{day}.csv",), time_ms=T0))
    aggregator.add(observed("SQS", "SendMessage", "orders", time_ms=T0 + 60_000))
    aggregator.add(observed("Bogus", "DoThing", "orders", time_ms=T0 + 90_000))
    aggregator.add(
        observed("KMS", "Decrypt", HOSTILE, outcome=DENIED, denied_actions=("kms:Decrypt",), time_ms=T0 + 120_000)
    )
    service.after_flush(aggregator, renderer.render(aggregator, {}, {}), now=T0 / 1000 + 300)
    service.wait_for_drift(30)
    service.close(10)
    write_results(aggregator, {}, {"alerts": service.status()}, OutputOptions(directory))
    return [json.loads(line) for line in (directory / "alerts.jsonl").read_text().splitlines()]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1200,1600",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


def write_report(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path / "out"
    events = collector_output(out)
    page = tmp_path / "report.html"
    result = run_cli("report", "--from-output", str(out), "--html", str(page), "--output-dir", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    return page, events


@pytest.mark.timeout(120)
def test_the_page_renders_every_workload_and_event_without_running_input(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    page, events = write_report(tmp_path)
    assert {e["detail-type"] for e in events} == {"NewAction", "DeniedCall", "Drift"}
    text = page.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text  # self-contained
    browser.get(page.as_uri())
    assert browser.title == "Observed AWS permissions"  # the hostile name's script did not run
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "section.workload h2")]
    assert headings == sorted(["orders", HOSTILE])
    assert not browser.find_elements(By.TAG_NAME, "img")
    body = browser.find_element(By.TAG_NAME, "body").text
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "section.workload tbody tr")]
    for event in events:
        detail = event["detail"]
        assert any(detail["action"] in row and detail["kind"] in row for row in rows), detail
    assert f"{BUCKET}/daily/*" in body and f"{BUCKET}/daily/2026-12-01.csv" in body  # generalized, its examples
    assert "Bogus.DoThing" in body  # unmapped
    assert ROLE in body and "sqs:SendMessage" in body  # drift: used, not granted
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_from_output_without_a_state_is_bad_input(tmp_path: Path) -> None:
    result = run_cli(
        "report",
        "--from-output",
        str(tmp_path),
        "--html",
        str(tmp_path / "r.html"),
        "--output-dir",
        str(tmp_path / "r"),
    )
    assert_one_error_line(result, 2, "state.json")


def test_the_page_of_an_archive_report(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (archive / "dt=2026-12-06").mkdir(parents=True)
    line = {"workload": "w<1>", "source": "proxy", "service": "SQS", "operation": "ListQueues", "time_ms": 1}
    subprocess.run(
        ["gzip"],
        input=(json.dumps(line) + "\n").encode(),
        stdout=(archive / "dt=2026-12-06" / "a.jsonl.gz").open("wb"),
        check=True,
    )
    page = tmp_path / "r.html"
    result = run_cli("report", "--archive-dir", str(archive), "--html", str(page), "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert "w&lt;1&gt;" in text and "sqs:ListQueues" in text and "FirstCall" in text
